// The follow-up worklist (dashboards/templates/worklist.html). Served as a file so the pages run under a Content-Security-Policy without
// 'unsafe-inline' (ivr/web/security_headers.py); server data comes from the page's
// <script type="application/json" id="page-data"> block, which is data, never run.
(function () {
  const PAGE = JSON.parse(document.getElementById('page-data').textContent);
  const csrf = PAGE.csrf, me = PAGE.me, supervisor = PAGE.supervisor === true;
  const people = PAGE.people, dispositions = PAGE.dispositions;
  const PRIORITY = {1: 'urgent', 2: 'high', 3: 'normal', 4: 'low'};
  let seq = 0;
  function el(tag, text, cls) { const n = document.createElement(tag); if (text != null) n.textContent = String(text); if (cls) n.className = cls; return n; }
  function labelled(control, text) { const id = 'c' + (++seq); control.id = id; const l = el('label', text, 'visually-hidden'); l.htmlFor = id; return [l, control]; }
  function option(value, text, chosen) { const o = el('option', text); o.value = value; if (chosen) o.selected = true; return o; }
  function say(text, bad) { const m = document.getElementById('message'); m.textContent = text; m.className = bad ? 'bad' : ''; }
  function when(iso) { return iso ? new Date(iso).toLocaleString([], {dateStyle: 'short', timeStyle: 'short'}) : '–'; }
  async function post(url, body) {
    const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify(body)});
    const data = await r.json().catch(() => ({error: 'HTTP ' + r.status}));
    return [r.ok, data];
  }
  function assignForm(t) {
    const f = el('form'); f.dataset.action = 'assign';
    if (supervisor) {
      const pick = el('select'); pick.name = 'owner';
      pick.append(option(me, 'me (' + me + ')', t.owner === me));
      for (const [id, name] of people) if (id !== me) pick.append(option(id, name, t.owner === id));
      f.append(...labelled(pick, 'Give task ' + t.id + ' to'), el('button', 'Assign'));
    } else {
      f.append(el('button', t.owner === me ? 'Mine' : 'Assign to me'));
      if (t.owner === me) f.querySelector('button').disabled = true;
    }
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const owner = supervisor ? f.elements.owner.value : me;
      const [ok, data] = await post('/api/tasks/' + t.id + '/assign', {owner});
      await load();  // the table first, then the message: what it says is on screen
      say(ok ? 'Task ' + t.id + ' assigned to ' + data.owner + '.' : 'Not assigned: ' + data.error, !ok);
    });
    return f;
  }
  function closeForm(t) {
    const f = el('form'); f.dataset.action = 'close';
    const pick = el('select'); pick.name = 'disposition';
    for (const d of dispositions) pick.append(option(d, d.replace('_', ' ')));
    const notes = el('textarea'); notes.name = 'notes'; notes.rows = 2; notes.placeholder = 'Notes';
    f.append(...labelled(pick, 'Disposition for task ' + t.id), ...labelled(notes, 'Notes for task ' + t.id), el('button', 'Close'));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const [ok, data] = await post('/api/tasks/' + t.id + '/close', {disposition: pick.value, notes: notes.value});
      await load();
      say(ok ? 'Task ' + t.id + ' closed: ' + data.disposition + '.' : 'Not closed: ' + data.error, !ok);
    });
    return f;
  }
  function cell(tr, label, content, cls) {
    const td = el('td', null, cls); td.dataset.label = label;
    for (const c of [].concat(content)) td.append(typeof c === 'string' || typeof c === 'number' || c == null ? document.createTextNode(c == null ? '–' : String(c)) : c);
    tr.append(td); return td;
  }
  // How the call went on the agent floor (the API's `handling`: ivr/store/call_records.py
  // floor_summaries): who had it, the transfers that moved the caller (each files `completed`
  // once the caller was moved: docs/agent-floor.md), the holds.
  function handled(h) {
    if (!h) return '–';
    const parts = [];
    if (h.agents && h.agents.length) parts.push(el('div', h.agents.join(', '), 'agents'));
    for (const x of (h.transfers || []).filter((x) => x.result === 'completed')) {
      parts.push(el('div', x.agent + ' → ' + (x.to_type === 'queue' ? 'queue ' : '') + x.to + ' (' + x.mode + ' transfer)', 'transfer'));
    }
    if (h.hold_count) parts.push(el('div', 'on hold ' + h.hold_count + '× (' + Math.round(h.hold_s || 0) + ' s)', 'holds'));
    return parts.length ? parts : '–';
  }
  function row(t) {
    const tr = el('tr'); tr.dataset.task = t.id;
    cell(tr, 'Priority', PRIORITY[t.priority] || t.priority, 'prio-' + t.priority);
    cell(tr, 'Due', t.overdue ? [when(t.due_at) + ' ', el('span', 'OVERDUE', 'overdue')] : when(t.due_at));
    cell(tr, 'Caller', t.caller);
    const why = [el('div', t.reason)];
    if (t.transcript) why.push(el('div', '“' + t.transcript + '”', 'transcript'));
    if (t.notes) why.push(el('div', t.notes, 'notes'));
    cell(tr, 'Why', why, 'why');
    cell(tr, 'Handled', handled(t.handling), 'handling');
    cell(tr, 'Team', t.team); cell(tr, 'Owner', t.owner || 'nobody', 'owner'); cell(tr, 'Status', t.status.replace('_', ' ') + (t.disposition ? ' (' + t.disposition + ')' : ''), 'status');
    cell(tr, 'Actions', t.status === 'closed' ? [] : [assignForm(t), closeForm(t)], 'actions');
    return tr;
  }
  async function load() {
    const query = new URLSearchParams(location.search);
    if (!query.has('status')) query.set('status', 'open');
    if (!query.get('status')) query.delete('status');
    const r = await fetch('/api/tasks?' + query.toString());
    const body = document.querySelector('#tasks tbody'), count = document.getElementById('count');
    if (!r.ok) { count.textContent = 'Could not load tasks: HTTP ' + r.status; return; }
    const tasks = (await r.json()).tasks;
    body.replaceChildren(...tasks.map(row));
    count.textContent = tasks.length + (tasks.length === 1 ? ' task' : ' tasks');
  }
  load(); setInterval(() => { if (!document.activeElement || !document.activeElement.closest('form[data-action]')) load(); }, 15000);
})();
