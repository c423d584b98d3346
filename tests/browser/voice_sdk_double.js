// A test double of the Twilio Voice SDK's Device and Call (only the methods and events the
// console's softphone uses: dashboards/static/pages/agent-softphone.js), injected by the
// browser tests ONLY (tests/browser/softphone_double.py, Playwright add_init_script) before
// the page's scripts. The vendored SDK keeps an existing `Twilio.Device` (`Twilio.Device =
// Twilio.Device || Voice.Device`), so the page runs its real code against this double.
// The SDK cannot reach Twilio from here; the double drives the Twilio stand-in's simulated
// client legs instead (devkit/twilio_standin, /sim/clients/<identity>/...) through
// `window.simClient(method, path, body)`, a function the test exposes (Python calls the
// stand-in: no cross-origin request from the page). Its identity comes from the token the
// page fetched (the JWT's grants.identity), so a wrong token rings the wrong client.
(function () {
  const POLL_MS = 150;
  class Emitter {
    constructor() { this._handlers = {}; }
    on(event, fn) { (this._handlers[event] = this._handlers[event] || []).push(fn); return this; }
    emit(event, ...args) { for (const fn of this._handlers[event] || []) fn(...args); }
  }
  function identityOf(token) {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4))).grants.identity;
  }
  const sim = (method, path, body) => window.simClient(method, path, body || null);

  class Call extends Emitter {
    constructor(device, info) {
      super();
      this._device = device; this._sid = info.sid; this._status = 'pending'; this._muted = false;
      this.parameters = {CallSid: info.sid, From: info.from, To: info.to};
      this.customParameters = new Map(Object.entries(info.params || {}));
    }
    _act(action, body) { return sim('POST', `/sim/clients/${this._device.identity}/calls/${this._sid}/${action}`, body); }
    status() { return this._status; }
    accept() { this._act('accept').then(() => { this._status = 'open'; this.emit('accept', this); }); }
    reject() { this._status = 'closed'; this._act('reject').then(() => this.emit('reject')); }
    disconnect() {
      const was = this._status; this._status = 'closed';
      if (was !== 'closed') this._act('hangup').then(() => this.emit('disconnect', this));
    }
    mute(muted = true) { this._muted = !!muted; this._act('mute', {muted: this._muted}); this.emit('mute', this._muted, this); }
    isMuted() { return this._muted; }
    sendDigits(digits) { window.__sentDigits = (window.__sentDigits || '') + digits; this._act('digits', {digits}); }
    _gone() {  // the stand-in no longer lists it: the far end hung up or it rang out
      const was = this._status; this._status = 'closed';
      if (was === 'pending') this.emit('cancel'); else if (was !== 'closed') this.emit('disconnect', this);
    }
  }

  class Device extends Emitter {
    constructor(token, options) {
      super();
      this.token = token; this.options = options || {}; this.identity = identityOf(token);
      this.state = 'unregistered'; this.tokenUpdates = []; this._calls = new Map();
      this.audio = new Emitter();
      this.audio.availableOutputDevices = new Map([['default', {deviceId: 'default', label: 'Test speaker'}], ['usb', {deviceId: 'usb', label: 'Test headset'}]]);
      this.audio.availableInputDevices = new Map([['default', {deviceId: 'default', label: 'Test microphone'}]]);
      this.audio.isOutputSelectionSupported = true;
      this.audio.chosenSpeaker = 'default';
      this.audio.speakerDevices = {get: () => new Set([this.audio.availableOutputDevices.get(this.audio.chosenSpeaker)]),
        set: (id) => { this.audio.chosenSpeaker = id; return Promise.resolve(); }};
      this.audio.setInputDevice = (id) => { this.audio.inputDevice = this.audio.availableInputDevices.get(id); return Promise.resolve(); };
      window.__softphone = this;
    }
    static get version() { return 'test double'; }
    async register() {
      await sim('POST', `/sim/clients/${this.identity}/register`, {mode: 'manual'});
      this.state = 'registered'; this.emit('registered');
      this._timer = setInterval(() => this._poll(), POLL_MS);
    }
    async unregister() {
      clearInterval(this._timer);
      await sim('DELETE', `/sim/clients/${this.identity}`);
      this.state = 'unregistered'; this.emit('unregistered');
    }
    async connect(options) {  // an outgoing call through the TwiML App (the stand-in's dial)
      const params = (options && options.params) || {};
      const placed = await sim('POST', `/sim/clients/${this.identity}/dial`, {to: params.To, params});
      const call = new Call(this, {sid: placed.sid, from: 'client:' + this.identity, to: params.To});
      call._status = 'connecting';
      this._calls.set(placed.sid, call);
      return call;
    }
    updateToken(token) {
      if (identityOf(token) !== this.identity) throw new Error('updateToken: another identity');
      this.token = token; this.tokenUpdates.push(token);
    }
    async _poll() {
      if (this._polling) return;
      this._polling = true;
      try {
        const listed = await sim('GET', `/sim/clients/${this.identity}/calls`);
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
      } finally { this._polling = false; }
    }
  }
  window.Twilio = Object.assign(window.Twilio || {}, {Device, Call});
})();
