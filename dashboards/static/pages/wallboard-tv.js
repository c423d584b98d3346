// The wallboard on a wall screen (/wallboard?tv=1, dashboards/templates/wallboard_tv.html):
// one tile per queue, an alert strip and agents by state (with the callers on hold now), on
// one screen with no scrolling (issue 16). Tiles share the space left by the strips: the
// arrangement (columns x rows) that gives the largest tiles is chosen, and the type scales with the tile (CSS container units,
// wallboard-tv.css). Tiles never shrink below TILE_MIN: past that, the queues are split into
// pages that take turns every `rotate` seconds (?rotate=N, default 12).
(function () {
  const {el, clock, pct, worstLevel} = window.IvrBoard;
  const PAGE = JSON.parse(document.getElementById('page-data').textContent);
  const TILE_MIN = {w: 300, h: 210}, GAP = 12;  // px: the floor, and the grid's gap
  const STATE_WORDS = {ok: 'OK', warn: 'WARNING', alert: 'ALERT'};
  const AGENT_STATES = [['available', 'available'], ['ringing', 'ringing'], ['on_call', 'on a call'],
    ['wrap_up', 'wrap-up'], ['break', 'on break'], ['offline', 'signed out']];
  const tiles = document.getElementById('queues');
  let board = null, page = 0;

  // The arrangement of n tiles in w x h px with the largest waiting count (its type is
  // min(42cqh, 26cqw) of the tile, wallboard-tv.css), or null when none keeps TILE_MIN.
  function arrange(n, w, h) {
    let best = null;
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const tw = (w - GAP * (cols - 1)) / cols, th = (h - GAP * (rows - 1)) / rows;
      if (tw < TILE_MIN.w || th < TILE_MIN.h) continue;
      const score = Math.min(0.42 * th, 0.26 * tw);
      if (!best || score > best.score) best = {cols, rows, score};
    }
    return best;
  }
  // How the queues are shown now: {perPage, cols, rows}.
  function plan(n) {
    const w = tiles.clientWidth, h = tiles.clientHeight;
    const all = arrange(Math.max(n, 1), w, h);
    if (all) return {perPage: Math.max(n, 1), cols: all.cols, rows: all.rows};
    const cols = Math.max(1, Math.floor((w + GAP) / (TILE_MIN.w + GAP)));
    const rows = Math.max(1, Math.floor((h + GAP) / (TILE_MIN.h + GAP)));
    return {perPage: cols * rows, cols, rows};
  }

  function figure(value, label, field, level) {
    const box = el('div', null, 'fig' + (level && level !== 'ok' ? ' ' + level : ''));
    const num = el('span', value, 'num'); num.dataset.field = field;
    box.append(num, el('span', label + (level && level !== 'ok' ? ' · ' + STATE_WORDS[level] : ''), 'lbl'));
    return box;
  }
  function tile(q) {
    const lv = q.levels || {}, state = worstLevel(lv);
    const box = el('article', null, 'queue ' + state); box.dataset.queue = q.queue;
    const head = el('div', null, 'head');
    head.append(el('h3', q.queue), el('span', STATE_WORDS[state], 'state'));
    const main = el('div', null, 'main' + (lv.waiting && lv.waiting !== 'ok' ? ' ' + lv.waiting : ''));
    const waiting = el('span', q.waiting, 'big'); waiting.dataset.field = 'waiting';
    main.append(waiting, el('span', q.waiting === 1 ? 'caller waiting' : 'callers waiting', 'lbl'));
    const target = q.thresholds ? pct(q.thresholds.service_level_warn) : null;
    const figs = el('div', null, 'figs');
    figs.append(
      figure(clock(q.longest_wait), 'longest wait', 'longest_wait', lv.longest_wait),
      figure(pct(q.service_level), 'in ' + q.service_target + ' s today' + (target ? ', goal ' + target : ''),
        'service_level', lv.service_level),
      figure((q.agents || {}).available || 0, 'agents available', 'available'));
    const hears = el('p', null, 'hears');
    hears.append(el('span', 'New callers hear ', 'lbl'), el('q', q.new_caller_hears));
    box.append(head, main, figs, hears);
    return box;
  }
  function showTiles() {
    if (!board) return;
    const queues = board.queues.map((q) => Object.assign({thresholds: (board.thresholds || {})[q.queue]}, q));
    const p = plan(queues.length), pages = Math.max(1, Math.ceil(queues.length / p.perPage));
    page %= pages;
    tiles.style.setProperty('--cols', p.cols);
    tiles.style.setProperty('--rows', p.rows);
    tiles.replaceChildren(...queues.slice(page * p.perPage, (page + 1) * p.perPage).map(tile));
    const pageOf = document.getElementById('page-of');
    pageOf.textContent = pages > 1 ? 'queues page ' + (page + 1) + ' of ' + pages : '';
    pageOf.dataset.pages = pages;
  }
  function showAlerts(list) {
    const ul = document.getElementById('alerts');
    const key = JSON.stringify(list);
    if (ul.dataset.key === key) return;  // an unchanged set is not announced again
    ul.dataset.key = key;
    ul.replaceChildren(...(list.length ? list.map((t) => el('li', t)) : [el('li', 'No alerts', 'none')]));
    document.getElementById('alert-count').textContent = list.length ? list.length + (list.length === 1 ? ' alert' : ' alerts') : 'Alerts';
    document.querySelector('.tv-alerts').classList.toggle('quiet', !list.length);
  }
  function showAgents(agents) {
    const counts = {};
    for (const a of agents || []) counts[a.state] = (counts[a.state] || 0) + 1;
    const ul = document.getElementById('agent-states');
    ul.replaceChildren(...AGENT_STATES.map(([key, words]) => {
      const li = el('li', null, 'agent-' + key); li.dataset.state = key;
      li.append(el('span', counts[key] || 0, 'num'), el('span', words, 'lbl'));
      return li;
    }), held(agents || []));
  }
  // The agent floor (docs/agent-floor.md): callers an agent has put on hold now, and the
  // longest of those holds, counting up with each board, so a forgotten hold shows.
  function held(agents) {
    const holds = agents.filter((a) => a.on_hold != null).map((a) => a.on_hold);
    const li = el('li', null, 'agent-held' + (holds.length ? ' some' : '')); li.dataset.state = 'held';
    const words = holds.length === 1 ? 'caller on hold' : 'callers on hold';
    li.append(el('span', holds.length, 'num'),
      el('span', words + (holds.length ? ', longest ' + clock(Math.max(...holds)) : ''), 'lbl'));
    return li;
  }
  function render(data) {
    board = data;
    showTiles();
    showAlerts(data.alerts || []);
    showAgents(data.agents);
  }
  const status = document.getElementById('status');
  window.IvrBoard.connect(status.dataset.streamUrl, render, (s) => {
    status.className = s.stale ? 'stale' : s.down ? 'down' : '';
    const now = new Date().toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
    if (s.stale) status.textContent = 'STALE: figures ' + Math.round(s.age) + ' s old';
    else if (s.down) status.textContent = now + ' · reconnecting';
    else status.textContent = s.age == null ? 'connecting…' : now + ' · live';
  });
  setInterval(() => { page += 1; showTiles(); }, Math.max(3, PAGE.rotate || 12) * 1000);
  window.addEventListener('resize', showTiles);
})();
