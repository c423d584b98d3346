// The desk wallboard's per-agent table, sortable by any column (issue 16): each column head
// is a button; a second press reverses the order; aria-sort says the order to screen readers.
// Today's floor figures per agent (issue 14: mean hold, after-call work, transfer rate) sit
// beside the AHT; the state cell says why an agent is away and when their caller is on hold.
// The order survives the board's updates (every change redraws the rows). Defines
// window.IvrBoard.showAgents; loaded after wallboard-feed.js, before wallboard.js.
// An agent on a call (the row's `call`, the caller's CallSid) gets Listen / Whisper / Barge /
// Stop: POST /supervisor/monitor {"call", "mode"} and /supervisor/monitor/stop
// (docs/agent-floor.md); the monitor leg rings the supervisor's own softphone, registered by
// their agent console (/agent), which the status line links to.
(function () {
  const {el, minutes, clock, pct} = window.IvrBoard;
  const COLUMNS = [  // key, how a row sorts (text or number; no figure sorts last)
    ['name', (a) => a.name.toLowerCase()], ['state', (a) => a.state],
    ['for', (a) => a.for], ['handled', (a) => a.handled], ['aht', (a) => a.aht],
    ['hold', (a) => a.hold], ['after_call', (a) => a.after_call], ['transfer_rate', (a) => a.transfer_rate]];
  let sortKey = 'name', direction = 1, last = [];
  const PAGE = JSON.parse(document.getElementById('page-data').textContent);
  const MODES = [['listen', 'Listen'], ['whisper', 'Whisper'], ['barge', 'Barge'], ['stop', 'Stop']];

  async function monitor(agent, call, mode) {
    const status = document.getElementById('monitor-status');
    let r = null, data = null;
    try {
      r = await fetch(mode === 'stop' ? '/supervisor/monitor/stop' : '/supervisor/monitor', {method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': PAGE.csrf},
        body: JSON.stringify(mode === 'stop' ? {call} : {call, mode})});
      data = await r.json().catch(() => null);
    } catch (e) { data = {error: 'the server did not answer'}; }
    const link = el('a', 'your agent console'); link.href = '/agent?agent=' + encodeURIComponent(agent);
    if (r && r.ok) {
      status.replaceChildren(el('span', mode === 'stop' ? 'Stopped monitoring ' + agent + '. ' :
        mode + ': ' + agent + "'s call rings your softphone on "), ...(mode === 'stop' ? [] : [link, el('span', '.')]));
    } else {
      status.replaceChildren(el('span', 'Could not ' + mode + ' (' + agent + '): ' +
        (data && data.error ? data.error : r && r.status === 404 ? 'this server does not offer it' : 'HTTP ' + (r ? r.status : '?'))));
    }
  }
  function superviseCell(a) {
    const td = el('td', null, 'supervise');
    if (!a.call) return td;
    for (const [mode, label] of MODES) {
      const b = el('button', label); b.type = 'button'; b.dataset.mode = mode;
      b.setAttribute('aria-label', label + ' ' + a.name);
      b.addEventListener('click', () => monitor(a.id, a.call, mode));
      td.append(b);
    }
    return td;
  }

  // The state, with why the system set it (away: "missed 2 calls") and a caller on hold now
  // (the agent floor, docs/agent-floor.md), its time counting up with each board.
  function stateCell(a) {
    const td = el('td', a.state.replace('_', ' '), 'state'); td.dataset.field = 'state';
    if (a.reason) td.append(el('span', ' (' + a.reason + ')', 'reason'));
    if (a.on_hold != null) {
      const held = el('span', 'caller on hold ' + clock(a.on_hold), 'held'); held.dataset.field = 'on_hold';
      td.append(' ', held);
    }
    return td;
  }
  function figure(text, field) {
    const td = el('td', text, 'num'); td.dataset.field = field; return td;
  }
  function compare(get) {
    return (x, y) => {
      const a = get(x), b = get(y);
      if (a == null || b == null) return a == null ? (b == null ? 0 : 1) : -1;
      return (a < b ? -1 : a > b ? 1 : 0) * direction;
    };
  }
  function draw() {
    const get = COLUMNS.find(([key]) => key === sortKey)[1];
    const rows = last.slice().sort(compare(get));
    const body = document.getElementById('agents'); body.replaceChildren();
    for (const a of rows) {
      const tr = el('tr'); tr.dataset.agent = a.id;
      tr.append(el('td', a.name), stateCell(a), el('td', minutes(a.for)),
        el('td', a.handled, 'num'), el('td', minutes(a.aht), 'num'), figure(minutes(a.hold), 'hold'),
        figure(minutes(a.after_call), 'after_call'), figure(pct(a.transfer_rate), 'transfer_rate'),
        superviseCell(a));
      body.append(tr);
    }
    for (const th of document.querySelectorAll('#agents-table th[data-sort]')) {
      const on = th.dataset.sort === sortKey;
      th.setAttribute('aria-sort', on ? (direction > 0 ? 'ascending' : 'descending') : 'none');
    }
  }
  for (const th of document.querySelectorAll('#agents-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      direction = th.dataset.sort === sortKey ? -direction : 1;
      sortKey = th.dataset.sort;
      draw();
    });
  }
  window.IvrBoard.showAgents = (agents) => { last = agents || []; draw(); };
})();
