// The agent console (dashboards/templates/agent.html). Served as a file so the pages run under a Content-Security-Policy without
// 'unsafe-inline' (ivr/web/security_headers.py); server data comes from the page's
// <script type="application/json" id="page-data"> block, which is data, never run.
(function () {
  const PAGE = JSON.parse(document.getElementById('page-data').textContent);
  const agent = PAGE.agent, csrf = PAGE.csrf;
  const q = '?agent=' + encodeURIComponent(agent);
  let lastCall = null;
  function el(tag, text, cls) { const n = document.createElement(tag); if (text != null) n.textContent = String(text); if (cls) n.className = cls; return n; }
  function minutes(s) { return s < 60 ? Math.round(s) + ' s' : Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s'; }
  function row(dl, k, v) { dl.append(el('dt', k), el('dd', v)); }
  let historyFor = null;
  function show(ctx) {
    document.dispatchEvent(new CustomEvent('agent:context', {detail: ctx}));  // agent-floor.js, agent-softphone.js
    document.getElementById('presence').textContent = (ctx.presence || '').replace('_', ' ') + (ctx.reason ? ' (' + ctx.reason + ')' : '');
    const card = document.getElementById('card');
    if (!ctx.call) { card.classList.remove('live'); if (!lastCall) card.replaceChildren(el('p', 'No call right now.')); return; }
    const c = ctx.call; lastCall = c.call_sid; card.classList.add('live'); card.replaceChildren();
    card.append(el('h2', (c.caller_name || c.from || 'Caller') + (c.reason ? ' · ' + c.reason : '')));
    const dl = el('dl');
    row(dl, 'Number', c.from); row(dl, 'Language', c.language);
    row(dl, 'Waited', c.waited == null ? '–' : minutes(c.waited));
    for (const [name, rec] of Object.entries(c.looked_up || {})) row(dl, name, Object.entries(rec).map(([k, v]) => k + ': ' + v).join(', '));
    for (const s of c.self_service || []) row(dl, 'Self-service ' + s.task, s.solved ? 'solved' : 'not solved');
    row(dl, 'Path', (c.path || []).join(' → '));
    card.append(dl);
    if (c.from && c.call_sid !== historyFor) { historyFor = c.call_sid; history(c.from); }
    document.getElementById('call_sid').value = c.call_sid;
    document.getElementById('disposition').hidden = false;
  }
  let pollSeq = 0;
  async function poll() {  // a poll started before a newer one (presence click) is not drawn
    const mine = ++pollSeq;
    try { const r = await fetch('/agent/context.json' + q); const c = r.ok ? await r.json() : null; if (c && mine === pollSeq) show(c); } catch (e) {}
  }
  for (const b of document.querySelectorAll('.presence button')) {
    b.addEventListener('click', async () => {
      await fetch('/api/agents/' + encodeURIComponent(agent) + '/presence', {method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify({state: b.dataset.state})});
      poll();
    });
  }
  document.getElementById('disposition').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await fetch('/agent/disposition' + q, {method: 'POST', body: new FormData(e.target), headers: {'X-CSRF-Token': csrf}});
    document.getElementById('filed').textContent = r.ok ? 'Filed.' : 'Not filed: ' + (await r.text());
    if (r.ok) { lastCall = null; e.target.hidden = true; }
  });

  async function callbacks() {
    try {
      const r = await fetch('/agent/callbacks.json' + q); if (!r.ok) return;
      const data = await r.json(), body = document.querySelector('#callbacks tbody'); body.replaceChildren();
      for (const c of data.callbacks) {
        const tr = el('tr'); tr.dataset.callback = c.id;
        const due = el('td', c.waiting > 0 ? 'due ' + minutes(c.waiting) + ' ago' : 'at ' + new Date(c.due * 1000).toLocaleTimeString());
        if (c.overdue) { due.className = 'overdue'; due.append(document.createTextNode(' · OVERDUE')); }
        tr.append(el('td', c.queue), el('td', c.number), el('td', c.caller_name || '–'), due, el('td', c.attempts), el('td', c.state));
        body.append(tr);
      }
      document.getElementById('cb-count').textContent = '(' + data.callbacks.length + ')';
    } catch (e) {}
  }
  // How an earlier call went on the floor (ivr/store/call_records.floor_json): the agents in
  // turn, holds, the transfers that moved the caller, who monitored it how, and whether the
  // caller hung up on an agent: the next agent sees what happened (issue 14, item 7).
  function handling(c) {
    const f = c.floor;
    if (!f) return c.agent ? ' · with ' + c.agent : '';
    const agents = f.agents && f.agents.length ? f.agents : c.agent ? [c.agent] : [];
    const parts = [agents.length ? 'with ' + agents.join(', ') : null];
    if (c.hold_count) parts.push('held ' + c.hold_count + '×' + (c.hold_s ? ' (' + minutes(c.hold_s) + ')' : ''));
    for (const t of f.transfers || []) {
      if (t.result === 'completed' || (t.mode === 'cold' && t.result === 'started')) parts.push('transferred ' + t.agent + ' → ' + t.to + ' (' + t.mode + ')');
    }
    const watched = new Map();
    for (const m of f.monitoring || []) if (m.mode !== 'stop') watched.set(m.supervisor, [...(watched.get(m.supervisor) || []), m.mode]);
    for (const [who, modes] of watched) parts.push(who + ' ' + modes.join(', then '));
    if (f.caller_hung_up) parts.push('caller hung up' + (f.caller_hung_up.agent ? ' on ' + f.caller_hung_up.agent : ''));
    return parts.filter(Boolean).map(p => ' · ' + p).join('');
  }
  function earlierCall(c) {
    const li = el('li', when(c.started_at) + ' · ' + (c.outcome || '') + (c.queue ? ' · ' + c.queue : '') +
      (c.wait_s != null ? ' · waited ' + Math.round(c.wait_s) + ' s' : '') + handling(c) + (c.disposition ? ' · ' + c.disposition.code : ''));
    li.dataset.call = c.call_sid;
    return li;
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString([], {dateStyle: 'short', timeStyle: 'short'}) : '–'; }
  async function getJson(url) { const r = await fetch(url); return r.ok ? r.json() : null; }
  async function history(number) {
    // /api/callers/<number> when installed (calls, open tasks, surveys); else the two lists
    const forCall = historyFor;  // a newer call may come in while this caller's history loads
    let h = await fetch('/api/callers/' + encodeURIComponent(number) + '?limit=6').then(r => r.ok ? r.json() : null).catch(() => null);
    if (!h) {
      const n = encodeURIComponent(number);
      const [calls, tasks] = await Promise.all([getJson('/api/calls?limit=6&caller=' + n), getJson('/api/tasks?status=open&caller=' + n)]);
      h = {calls: calls ? calls.calls : null, open_tasks: tasks ? tasks.tasks : null};
    }
    if (forCall !== historyFor) return;
    const calls = document.getElementById('previous-calls'), tasks = document.getElementById('open-tasks');
    const earlier = (h.calls || []).filter(c => c.call_sid !== lastCall).slice(0, 5);
    calls.replaceChildren(...(h.calls == null ? [el('li', 'call history unavailable')] : earlier.length ? earlier.map(earlierCall) : [el('li', 'No earlier calls.')]));
    const facts = [];
    if (h.calls_total != null) facts.push(h.calls_total + (h.calls_total === 1 ? ' call' : ' calls') + ' in all, ' + h.calls_24h + ' in the last 24 h' + (h.repeat_caller ? ' (repeat caller)' : ''));
    if (h.satisfaction && h.satisfaction.last != null) facts.push('last satisfaction ' + h.satisfaction.last + ' / 5');
    document.getElementById('caller-facts').textContent = facts.join(' · ');
    const open = h.open_tasks || [];
    tasks.replaceChildren(...(h.open_tasks == null ? [el('li', 'follow-ups unavailable')] : open.length ? open.map(t => {
      const li = el('li', t.reason + ' · ' + t.status.replace('_', ' ') + (t.owner ? ' · ' + t.owner : '') + (t.overdue ? ' · ' : ''));
      if (t.overdue) li.append(el('span', 'OVERDUE', 'overdue'));
      return li;
    }) : [el('li', 'None open.')]));
    document.getElementById('history').hidden = false;
  }
  window.IvrAgent = {PAGE, el, poll, minutes};  // shared with agent-floor.js and agent-softphone.js
  poll(); setInterval(poll, 2000);
  callbacks(); setInterval(callbacks, 5000);
})();
