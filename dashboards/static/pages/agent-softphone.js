// The agent console's softphone: Twilio's Voice SDK (`Twilio.Device`, vendored in
// /static/vendor/twilio-voice/, dashboards/static/vendor/README.md) registered with a token
// from /agent/token (the signed-in user's own identity), renewed on `tokenWillExpire`.
// An incoming call rings here with why the caller called (the card agent.js draws from
// /agent/context.json); accept / reject; once accepted the Call is IvrAgent.softCall, which
// agent-floor.js's mute, keypad and hang-up act on. Presence follows the device: POST
// /agent/device {"state": "registered"|"unregistered"} on the Device's events and every
// REFRESH_MS while registered (routing offers a `client:` agent calls only while it is fresh;
// a server without the endpoint answers 404, which is ignored). A supervisor's console
// registers the supervisor's own identity: monitoring legs ring it. An agent at a phone number
// (PAGE.softphone.mode 'phone') gets no Device. Audio devices: Device.audio. "Call a number"
// places an outgoing call (`Device.connect({params: {To}})`) through the TwiML App, whose
// webhook (/voice/client) applies the toll-fraud policy. The ring, ringback, disconnect and
// DTMF sounds are this app's (PAGE.softphone.sounds, dashboards/softphone.py), not the SDK's
// defaults on sdk.twilio.com (no CDN at run time; docs/security.md).
(function () {
  const A = window.IvrAgent, PAGE = A.PAGE, $ = (id) => document.getElementById(id);
  const REFRESH_MS = 10000;
  if (PAGE.softphone.mode !== 'device') return;
  let device = null, ringing = null, lastCtx = null, refresh = null;

  function setState(text) { $('device-state').textContent = text; }
  async function token() {
    const r = await fetch('/agent/token', {cache: 'no-store'});
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || 'HTTP ' + r.status);
    return data.token;
  }
  function presence(state) {
    if (PAGE.supervising) return;  // the supervisor's device is not the agent's
    fetch('/agent/device', {method: 'POST', body: JSON.stringify({state}),
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': PAGE.csrf}}).catch(() => {});
  }
  function dialable() {  // the dialer shows while the phone is idle
    $('dial').hidden = PAGE.supervising || !device || device.state !== 'registered' || !!A.softCall || !!ringing;
  }
  function registered(yes) {
    setState(yes ? 'ready: calls ring here' : 'not registered: no calls are offered');
    dialable();
    presence(yes ? 'registered' : 'unregistered');
    clearInterval(refresh);
    refresh = yes ? setInterval(() => presence('registered'), REFRESH_MS) : null;
  }

  function why() {
    const c = lastCtx && lastCtx.call;
    if (c) return (c.caller_name || c.from || 'a caller') + (c.reason ? ' · ' + c.reason : '');
    return ringing && ringing.parameters ? ringing.parameters.From || '' : '';
  }
  function ended(call) {
    if (A.softCall === call) A.softCall = null;
    if (ringing === call) { ringing = null; $('ringing').hidden = true; }
    A.redraw(); A.poll(); dialable();
  }
  function incoming(call) {
    ringing = call; dialable();
    $('ring-why').textContent = why();
    $('ringing').hidden = false;
    $('accept').focus();
    call.on('accept', () => { ringing = null; $('ringing').hidden = true; A.softCall = call; A.redraw(); A.poll(); });
    call.on('disconnect', () => ended(call));
    call.on('cancel', () => ended(call));
    call.on('reject', () => ended(call));
    call.on('mute', () => A.redraw());
  }
  $('dial').addEventListener('submit', async (e) => {
    e.preventDefault();
    const to = $('dial-to').value.trim();
    try {
      const call = await device.connect({params: {To: to}});
      A.softCall = call; dialable(); A.redraw();
      call.on('accept', () => A.redraw());
      call.on('disconnect', () => ended(call));
      call.on('cancel', () => ended(call));
      call.on('error', (err) => A.fail('Phone: ' + (err && err.message ? err.message : err)));
    } catch (err) { A.fail('Phone: ' + err.message); }
  });
  $('accept').addEventListener('click', () => { if (ringing) ringing.accept(); });
  $('reject').addEventListener('click', () => { const call = ringing; if (call) { call.reject(); ended(call); } });
  document.addEventListener('agent:context', (e) => {
    lastCtx = e.detail;
    if (ringing) $('ring-why').textContent = why();
  });

  function fill(select, devices, chosen) {
    const options = [];
    for (const [id, info] of devices || []) {
      const o = document.createElement('option');
      o.value = id; o.textContent = info.label || id; o.selected = id === chosen;
      options.push(o);
    }
    select.replaceChildren(...options);
    return options.length;
  }
  function audioDevices() {
    const audio = device.audio;
    if (!audio) return;
    const speaker = [...(audio.speakerDevices && audio.speakerDevices.get ? audio.speakerDevices.get() : [])][0];
    const n = fill($('speaker'), audio.availableOutputDevices, speaker && speaker.deviceId)
      + fill($('microphone'), audio.availableInputDevices, audio.inputDevice && audio.inputDevice.deviceId);
    $('speaker').disabled = !audio.isOutputSelectionSupported;
    $('audio').hidden = n === 0;
  }
  $('speaker').addEventListener('change', (e) => device.audio.speakerDevices.set(e.target.value)
    .catch((err) => A.fail('Speaker: ' + err.message)));
  $('microphone').addEventListener('change', (e) => device.audio.setInputDevice(e.target.value)
    .catch((err) => A.fail('Microphone: ' + err.message)));

  async function start() {
    if (!window.Twilio || !window.Twilio.Device) { setState('unavailable'); A.fail('The softphone library did not load.'); return; }
    setState('connecting…');
    try {
      device = new window.Twilio.Device(await token(), {
        closeProtection: true, codecPreferences: ['opus', 'pcmu'],
        sounds: PAGE.softphone.sounds,  // our own files: nothing from sdk.twilio.com (CSP)
      });
    } catch (e) { setState('unavailable'); A.fail('Phone: ' + e.message); return; }
    A.device = device;
    device.on('registered', () => registered(true));
    device.on('unregistered', () => registered(false));
    device.on('error', (err) => {
      A.fail('Phone: ' + (err && err.message ? err.message : err));
      registered(device.state === 'registered');
    });
    device.on('incoming', incoming);
    device.on('tokenWillExpire', async () => {
      try { device.updateToken(await token()); } catch (e) { A.fail('Phone: the token could not be renewed: ' + e.message); }
    });
    if (device.audio && device.audio.on) device.audio.on('deviceChange', audioDevices);
    audioDevices();
    try { await device.register(); } catch (e) { A.fail('Phone: ' + e.message); }
  }
  start();  // deferred after the SDK's own deferred script
})();
