// The supervisor's desk wallboard (dashboards/templates/wallboard.html; the wall screen is
// wallboard-tv.js). Served as a file so the pages run under a Content-Security-Policy without
// 'unsafe-inline' (ivr/web/security_headers.py); server data comes from the page's
// <script type="application/json" id="page-data"> block, which is data, never run.
(function () {
  const PAGE = JSON.parse(document.getElementById('page-data').textContent);
  const THRESHOLDS = PAGE.thresholds;
  const COLOURS = ['#0b57d0', '#a4161a', '#146c2e', '#7a4b00', '#6750a4', '#00677d'];
  const {el, minutes, pct} = window.IvrBoard;  // wallboard-feed.js, loaded first
  function rangeText(r) {
    if (!r || r.in_range_share == null) return '–';
    return pct(r.in_range_share) + ' of ' + r.ranges_told + ', ranges ' + minutes(r.range_width) + ' wide';
  }
  function judged(dd, level) {
    if (level && level !== 'ok') { dd.classList.add(level); dd.append(el('span', level === 'alert' ? 'ALERT' : 'warning', 'flag')); }
    return dd;
  }
  function queueBox(q) {
    const box = el('article', null, 'queue'), lv = q.levels || {};
    box.dataset.queue = q.queue;
    const worst = Object.values(lv).includes('alert') ? 'alert' : Object.values(lv).includes('warn') ? 'warn' : '';
    if (worst) box.classList.add(worst);
    box.append(el('h3', q.queue));
    const waiting = el('div', q.waiting, 'big'); waiting.dataset.field = 'waiting';
    if (lv.waiting === 'alert') waiting.classList.add('alert');
    box.append(waiting, el('div', 'waiting'));
    const dl = el('dl');
    const a = q.agents || {};
    const rows = [
      ['Longest wait', minutes(q.longest_wait), 'longest_wait'], ['A new caller hears', q.new_caller_hears],
      ['Agents available', a.available || 0], ['On a call / ringing', (a.on_call || 0) + ' / ' + (a.ringing || 0)],
      ['Wrap-up / break', (a.wrap_up || 0) + ' / ' + (a.break || 0)],
      ['Callbacks pending', q.callbacks_pending, 'callbacks_pending'], ['Callbacks overdue', q.callbacks_overdue, 'callbacks_overdue'],
      ['Service level today (' + q.service_target + ' s)', pct(q.service_level), 'service_level'], ['Avg speed of answer', minutes(q.asa), 'asa'],
      ['Abandon rate today', pct(q.abandon_rate), 'abandon_rate'],
      ['Offered / answered / abandoned', q.offered + ' / ' + q.answered + ' / ' + q.abandoned, 'today'],
      ['Callers on hold now', q.on_hold || 0, 'on_hold'], ['Avg handle time today', minutes(q.aht), 'aht'],
      ['Avg hold today', minutes(q.hold), 'hold'], ['Transfer rate today', pct(q.transfer_rate), 'transfer_rate'],
      ['Inside the announced range today', rangeText(q.ranges), 'ranges'],
      ['Announced vs actual wait', q.estimates ? 'off by ' + minutes(q.estimates.mean_error) + ' on average (' + q.estimates.answered + ' callers, bias ' + Math.round(q.estimates.bias) + ' s)' : '–']];
    for (const [k, v, field] of rows) {
      const dd = judged(el('dd', v), lv[field]);
      if (field) dd.dataset.field = field;
      dl.append(el('dt', k), dd);
    }
    box.append(dl);
    const advice = staffingAdvice(q.staffing);
    if (advice) box.append(advice);
    return box;
  }
  // The staffing advisor (dashboards/staffing.py): its sentence, then what the agents working
  // now give and what the next hour needs; nothing until the database has answered.
  function staffingAdvice(s) {
    if (!s) return null;
    const box = el('div', null, 'advice'); box.dataset.field = 'staffing';
    box.append(el('p', s.sentence, 'advice-sentence'));
    const c = s.current;
    const now = c ? 'With ' + s.agents + ' working: ' + pct(c.service_level) + ' in ' + s.answer_within + ' s, ' +
      pct(c.abandon_rate) + ' hang up, ASA ' + minutes(c.asa) : 'Nobody is working on this queue now';
    const next = s.next_hour_agents_needed == null ? '' : '; next hour: ' + s.next_hour_agents_needed + ' needed (' + Math.round(s.next_hour_calls_per_hour) + ' calls/h)';
    box.append(el('p', now + ' (' + Math.round(s.calls_per_hour) + ' calls/h)' + next, 'note'));
    return box;
  }
  let lastAlerts = null;
  function showAlerts(list) {
    const key = JSON.stringify(list);
    if (key === lastAlerts) return;  // an unchanged set is not announced again
    lastAlerts = key;
    const ul = document.getElementById('alerts'); ul.replaceChildren();
    for (const text of list) ul.append(el('li', text));
    document.getElementById('alert-count').textContent = list.length ? '(' + list.length + ')' : '(none)';
  }
  const charts = {};
  let lastHistory = null;
  function chartWidth(id) { return Math.max(260, document.getElementById(id).clientWidth || 300); }
  function drawChart(id, h, field, scale) {
    const names = Object.keys(h.queues);
    const data = [h.minutes].concat(names.map(q => h.queues[q][field].map(v => v == null ? null : v * scale)));
    if (charts[id] && charts[id].series.length === names.length + 1) { charts[id].setData(data); return; }
    if (charts[id]) charts[id].destroy();
    const opts = {width: chartWidth(id), height: document.body.classList.contains('tv') ? 320 : 200,
      series: [{}].concat(names.map((q, i) => ({label: q, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: field !== 'service_level'}))),
      scales: scale === 100 ? {y: {range: [0, 100]}} : {y: {range: (u, lo, hi) => [0, Math.max(3, hi + 1)]}},
      axes: [{}, {values: (u, ticks) => ticks.map(t => scale === 100 ? t + ' %' : t)}]};
    if (typeof uPlot === 'undefined') return;  // the vendored library did not load: the table still shows it
    charts[id] = new uPlot(opts, data, document.getElementById(id));
  }
  function historyTable(h) {
    const names = Object.keys(h.queues), table = document.getElementById('history-table');
    const head = el('tr'); head.append(el('th', 'Minute'));
    for (const q of names) { const w = el('th', q + ' waiting'); w.scope = 'col'; const s = el('th', q + ' service level'); s.scope = 'col'; head.append(w, s); }
    table.tHead.replaceChildren(head);
    const body = table.tBodies[0]; body.replaceChildren();
    h.minutes.forEach((t, i) => {
      const tr = el('tr'); tr.dataset.minute = t;
      tr.append(el('td', new Date(t * 1000).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})));
      for (const q of names) { const w = el('td', h.queues[q].waiting[i], 'num'); w.dataset.queue = q; w.dataset.field = 'waiting'; tr.append(w, el('td', pct(h.queues[q].service_level[i]), 'num')); }
      body.append(tr);
    });
  }
  function showHistory(h) {
    if (!h) return;
    const key = JSON.stringify(h);
    if (key === lastHistory) return;
    lastHistory = key;
    drawChart('chart-waiting', h, 'waiting', 1);
    drawChart('chart-sl', h, 'service_level', 100);
    historyTable(h);
  }
  window.addEventListener('resize', () => { for (const [id, c] of Object.entries(charts)) c.setSize({width: chartWidth(id), height: c.height}); });
  function render(data) {
    const queues = document.getElementById('queues'); queues.replaceChildren();
    for (const q of data.queues) queues.append(queueBox(q));
    showAlerts(data.alerts || []);
    const t = data.today, today = document.getElementById('today');
    if (t) {
      today.textContent = ['self-service containment ' + pct(t.containment),
        'satisfaction ' + (t.satisfaction == null ? '–' : t.satisfaction + ' / 5 (' + t.surveys + ' answers)')].join(' · ');
    } else today.textContent = 'today\'s figures are unavailable (the outcome database did not answer)';
    window.IvrBoard.showAgents(data.agents);
    showHistory(data.history);
  }
  const list = document.getElementById('thresholds');
  for (const [q, t] of Object.entries(THRESHOLDS)) {
    list.append(el('li', q + ': longest wait amber at ' + minutes(t.wait_warn) + ', alert at ' + minutes(t.wait_alert) +
      '; service level amber below ' + pct(t.service_level_warn) + ', alert below ' + pct(t.service_level_alert) +
      '; abandon rate amber at ' + pct(t.abandon_warn) + ', alert at ' + pct(t.abandon_alert) + '; callbacks overdue after ' + minutes(t.callback_overdue)));
  }
  const status = document.getElementById('status');
  // The stream comes from the stream service (ivr/live/), on another port or routed here by
  // the proxy; the session cookie goes with it (withCredentials; wallboard-feed.js).
  window.IvrBoard.connect(status.dataset.streamUrl, render, (s) => {
    status.className = s.down ? 'down' : s.stale ? 'stale' : '';
    if (s.down) status.textContent = 'reconnecting…';
    else if (s.stale) status.textContent = 'stale: figures ' + Math.round(s.age) + ' s old';
    else if (s.age != null) status.textContent = 'live · ' + new Date().toLocaleTimeString();
  });
})();
