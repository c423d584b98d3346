// The demo phone: the agent console's softphone when the app runs against the local Twilio
// stand-in (`bin/dev demo`, no Twilio credentials; dashboards/standin_phone.py). The real SDK
// would connect to wss://voice-js.roaming.twilio.com, which does not exist here, so this
// module offers the same Device/Call surface agent-softphone.js uses (register, on(...),
// updateToken, audio; call.accept/reject/disconnect/mute/isMuted/sendDigits, parameters) and
// drives the stand-in's simulated client device for the signed-in user's own identity
// through the app's same-origin routes /demo-phone/<identity>/... (the stand-in's
// /sim/clients API, devkit/twilio_standin/client_devices.py). Registering puts the device in
// manual mode: a call rings until the person clicks Accept or Reject. No audio flows: the
// stand-in plays the call as a transcript. It is also the browser tests' stand-in for the
// SDK (tests/browser/test_softphone.py runs the console on the Twilio stand-in, so its pages
// load this file as the demo does): one implementation for both. A Device already defined
// is kept.
(function () {
  if (window.Twilio && window.Twilio.Device) return;
  const POLL_MS = 500;
  const csrf = JSON.parse(document.getElementById('page-data').textContent).csrf;
  class Emitter {
    constructor() { this._handlers = {}; }
    on(event, fn) { (this._handlers[event] = this._handlers[event] || []).push(fn); return this; }
    emit(event, ...args) { for (const fn of this._handlers[event] || []) fn(...args); }
  }
  function identityOf(token) {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4))).grants.identity;
  }
  async function standin(method, path, body) {
    const r = await fetch('/demo-phone/' + path, {method, cache: 'no-store',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
      body: body ? JSON.stringify(body) : undefined});
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error((data && data.error) || 'the stand-in answered HTTP ' + r.status);
    return data;
  }

  class Call extends Emitter {
    constructor(device, info) {
      super();
      this._device = device; this._sid = info.sid; this._status = 'pending'; this._muted = false;
      this.parameters = {CallSid: info.sid, From: info.from, To: info.to};
      this.customParameters = new Map(Object.entries(info.params || {}));
    }
    _act(action, body) {
      return standin('POST', `${encodeURIComponent(this._device.identity)}/calls/${this._sid}/${action}`, body || {})
        .catch((err) => { this.emit('error', err); });
    }
    status() { return this._status; }
    accept() { this._act('accept').then(() => { if (this._status === 'pending') { this._status = 'open'; this.emit('accept', this); } }); }
    reject() { this._status = 'closed'; this._act('reject').then(() => this.emit('reject')); }
    disconnect() {
      const was = this._status; this._status = 'closed';
      if (was !== 'closed') this._act('hangup').then(() => this.emit('disconnect', this));
    }
    mute(muted = true) { this._muted = !!muted; this._act('mute', {muted: this._muted}); this.emit('mute', this._muted, this); }
    isMuted() { return this._muted; }
    sendDigits(digits) { this._act('digits', {digits}); }
    _gone() {  // the stand-in no longer lists it: the far end hung up or it rang out
      const was = this._status; this._status = 'closed';
      if (was === 'pending') this.emit('cancel'); else if (was !== 'closed') this.emit('disconnect', this);
    }
  }

  class Device extends Emitter {
    constructor(token, options) {
      super();
      this.token = token; this.options = options || {}; this.identity = identityOf(token);
      this.state = 'unregistered'; this._calls = new Map();
      this.audio = new Emitter();  // no microphone or speaker: nothing to choose
      this.audio.isOutputSelectionSupported = false;
    }
    static get version() { return 'demo phone (Twilio stand-in)'; }
    get _path() { return encodeURIComponent(this.identity); }
    async register() {
      await standin('POST', `${this._path}/register`, {mode: 'manual'});
      this.state = 'registered'; this.emit('registered');
      clearInterval(this._timer);
      this._timer = setInterval(() => this._poll(), POLL_MS);
    }
    async unregister() {
      clearInterval(this._timer);
      await standin('DELETE', this._path);
      this.state = 'unregistered'; this.emit('unregistered');
    }
    async connect(options) {  // an outgoing call through the TwiML App (the stand-in's dial)
      const params = (options && options.params) || {};
      const placed = await standin('POST', `${this._path}/dial`, {to: params.To, params});
      const call = new Call(this, {sid: placed.sid, from: 'client:' + this.identity, to: params.To});
      call._status = 'connecting';
      this._calls.set(placed.sid, call);
      return call;
    }
    updateToken(token) {
      if (identityOf(token) !== this.identity) throw new Error('updateToken: another identity');
      this.token = token;
    }
    async _poll() {
      if (this._polling) return;
      this._polling = true;
      try {
        const listed = await standin('GET', `${this._path}/calls`);
        const live = new Set(listed.map(c => c.sid));
        for (const info of listed) {
          const known = this._calls.get(info.sid);
          if (known && known._status === 'connecting' && info.status === 'in-progress') {
            known._status = 'open'; known.emit('accept', known);
          }
          if (known || !info.ringing) continue;
          const call = new Call(this, info);
          this._calls.set(info.sid, call);
          this.emit('incoming', call);
        }
        for (const [sid, call] of this._calls) if (!live.has(sid) && call._status !== 'closed') call._gone();
      } catch (err) {
        this.emit('error', err);
      } finally { this._polling = false; }
    }
  }
  window.Twilio = Object.assign(window.Twilio || {}, {Device, Call});
})();
