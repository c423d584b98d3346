// The agent console's call controls (dashboards/templates/agent.html, docs/agent-floor.md
// "The console's control API"): hold/resume, mute, hang up, keypad, transfer / consult / add,
// recording pause, after-call work (wrap-up countdown, end, +30 s) and, for a supervisor
// looking at an agent, listen / whisper / barge / stop. Moves go to POST /agent/call/<action>
// (JSON; 409/403/502 answers say why, shown in #phone-error). With the browser softphone
// (agent-softphone.js sets IvrAgent.softCall), mute, keypad and hang-up act on the SDK's Call
// locally; an agent at a phone number has no softphone and every button goes through the API.
// Reads each /agent/context.json poll from agent.js's 'agent:context' event. Text only: no
// innerHTML with data.
(function () {
  const A = window.IvrAgent, PAGE = A.PAGE, csrf = PAGE.csrf;
  const q = '?agent=' + encodeURIComponent(PAGE.agent);
  const $ = (id) => document.getElementById(id);
  let ctx = null, floor = null, wrapUntil = null, wrapRequired = false;

  function callSid() { return floor ? floor.call : ctx && ctx.call ? ctx.call.call_sid : null; }
  function fail(text) { $('phone-error').textContent = text; }
  A.fail = fail;

  // POST JSON; the answer's body, or null after showing why it failed
  async function post(url, body) {
    let r;
    try {
      r = await fetch(url, {method: 'POST', body: JSON.stringify(body || {}),
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}});
    } catch (e) { fail('The server did not answer: ' + e.message); return null; }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.ok) { fail(''); return data || {}; }
    const why = data && data.error ? data.error : r.status === 404 ? 'this server does not offer it' : 'HTTP ' + r.status;
    const prefix = {409: 'Not possible now: ', 403: 'Not allowed: ', 502: 'Twilio refused: ', 503: 'Unavailable: '}[r.status] || '';
    fail(prefix + why);
    return null;
  }
  A.post = post;

  async function act(action, extra) {
    const call = callSid();
    if (!call) { fail('No call to act on.'); return null; }
    const body = Object.assign({call}, extra || {});
    if (PAGE.supervising) body.agent = PAGE.agent;
    const data = await post('/agent/call/' + action + q, body);
    if (data && data.floor) draw(data.floor);
    if (data) A.poll();
    return data;
  }
  A.act = act;

  function draw(f) {
    floor = f || null;
    const soft = !!(A.softCall && A.softCall.status && A.softCall.status() !== 'closed');
    const live = soft || (floor && floor.state !== 'ended');
    $('controls').hidden = !live;
    if (!live) return;
    $('call-state').textContent = floor ? floor.state + (floor.held ? ' (caller on hold)' : '') : 'connected';
    const others = floor ? (floor.participants || []).filter(p => p.status !== 'left' && p.role !== 'caller') : [];
    $('participants').textContent = others.length ? '· with ' + others.map(p => p.who + ' (' + p.role + (p.mode ? ' ' + p.mode : '') + (p.status !== 'joined' ? ', ' + p.status : p.in_room ? '' : ', connecting') + ')').join(', ') : '';
    const held = !!(floor && floor.held);
    $('hold').textContent = held ? 'Resume' : 'Hold';
    $('hold').setAttribute('aria-pressed', String(held));
    // 'ringing' and 'connecting': the caller and the agent are not both in the conference yet
    // (docs/agent-floor.md, "floor state"); a move on the room then would be refused (409).
    const joined = !!(floor && ['talking', 'held', 'consult'].includes(floor.state));
    for (const id of ['hold', 'record']) $(id).disabled = !joined;
    for (const b of document.querySelectorAll('#transfer button')) b.disabled = !joined;
    const consult = others.find(p => p.role === 'consult');
    $('consult-complete').disabled = !(consult && consult.status === 'joined' && consult.in_room);
    const muted = soft ? A.softCall.isMuted() : !!(floor && floor.muted);
    $('mute').textContent = muted ? 'Unmute' : 'Mute';
    $('mute').setAttribute('aria-pressed', String(muted));
    const rec = floor ? floor.recording : 'off';
    $('record').hidden = !rec || rec === 'off';
    // 'failed': Twilio would not start the recording; said, not offered as a button
    if (rec === 'failed') $('record').disabled = true;
    $('record').textContent = rec === 'failed' ? 'Recording failed'
      : rec === 'paused' ? 'Resume recording' : 'Pause recording';
    $('record').setAttribute('aria-pressed', String(rec === 'paused'));
    $('consulting').hidden = !(floor && floor.state === 'consult');
    $('keypad').hidden = !soft;  // a phone agent has the phone's own keypad
  }
  A.redraw = () => draw(floor);

  function drawWrapUp() {
    const left = wrapUntil == null ? null : Math.max(0, Math.round(wrapUntil - Date.now() / 1000));
    $('wrapup').hidden = left == null;
    if (left == null) return;
    $('wrapup-left').textContent = left > 0 ? A.minutes(left) + ' left' : wrapRequired ? 'waiting for the disposition' : 'ending';
    $('wrapup-note').textContent = wrapRequired ? '(file a disposition to take the next call)' : '';
  }

  document.addEventListener('agent:context', (e) => {
    ctx = e.detail;
    draw(ctx.floor || null);
    wrapUntil = ctx.wrap_up ? ctx.wrap_up.until : null;
    wrapRequired = !!(ctx.wrap_up && ctx.wrap_up.disposition_required);
    drawWrapUp();
    for (const b of document.querySelectorAll('#monitor button')) b.disabled = !callSid();
    if (PAGE.supervising) drawMonitor();
  });
  setInterval(drawWrapUp, 1000);

  $('hold').addEventListener('click', () => act(floor && floor.held ? 'resume' : 'hold'));
  $('record').addEventListener('click', () => act(floor && floor.recording === 'paused' ? 'record/resume' : 'record/pause'));
  $('mute').addEventListener('click', () => {
    if (A.softCall) { A.softCall.mute(!A.softCall.isMuted()); draw(floor); return; }
    act(floor && floor.muted ? 'unmute' : 'mute');
  });
  $('hangup').addEventListener('click', () => { if (A.softCall) A.softCall.disconnect(); else act('hangup'); });
  for (const b of document.querySelectorAll('#keypad button')) {
    b.addEventListener('click', () => { if (A.softCall) A.softCall.sendDigits(b.dataset.digit); });
  }
  $('transfer').addEventListener('submit', (e) => {
    e.preventDefault();
    const action = e.submitter ? e.submitter.dataset.action : 'transfer';
    act(action, {to_type: $('to_type').value, to: $('to').value.trim()});
  });
  $('consult-complete').addEventListener('click', () => act('consult/complete'));
  $('consult-cancel').addEventListener('click', () => act('consult/cancel'));
  $('wrapup-end').addEventListener('click', async () => { if (await post('/agent/wrapup/end' + q, {})) { wrapUntil = null; drawWrapUp(); A.poll(); } });
  $('wrapup-extend').addEventListener('click', async () => {
    const data = await post('/agent/wrapup/extend' + q, {seconds: 30});
    if (data && data.wrap_up && data.wrap_up.until) { wrapUntil = data.wrap_up.until; drawWrapUp(); }
    if (data) A.poll();
  });

  // A supervisor on an agent's console: monitoring rings the supervisor's own softphone.
  // The status line follows the supervisor's monitor leg in the floor (ringing, connecting,
  // then the mode) and a mode change waits until that leg is in the conference.
  const WORDS = {listen: 'Listening (muted)', whisper: 'Whispering to ' + PAGE.agent, barge: 'In the call', stop: 'Stopped'};
  let stopped = false;
  function drawMonitor() {
    const mine = floor && (floor.participants || []).find(p => p.role === 'monitor' && p.who === PAGE.me && p.status !== 'left');
    for (const b of document.querySelectorAll('#monitor button')) {
      if (b.dataset.mode !== 'stop' && mine && !mine.in_room) b.disabled = true;
    }
    $('monitor-status').textContent = stopped ? WORDS.stop + '.' : !mine ? ''
      : mine.status === 'ringing' ? 'Your phone is ringing: accept it above.'
      : !mine.in_room ? 'Connecting…' : WORDS[mine.mode] + '.';
  }
  for (const b of document.querySelectorAll('#monitor button')) {
    b.disabled = true;
    b.addEventListener('click', async () => {
      const call = callSid(), mode = b.dataset.mode;
      if (!call) { fail('No call to supervise.'); return; }
      const data = await post(mode === 'stop' ? '/supervisor/monitor/stop' : '/supervisor/monitor',
        mode === 'stop' ? {call} : {call, mode});
      if (data) { stopped = mode === 'stop'; if (data.floor) draw(data.floor); drawMonitor(); A.poll(); }
    });
  }
})();
