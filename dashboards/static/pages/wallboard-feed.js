// What the desk wallboard (wallboard.js) and the wall screen (wallboard-tv.js) share: the
// event stream from the stream service (ivr/live/), how old the figures on screen are, and
// small formatting helpers. Loaded first; it defines window.IvrBoard and runs nothing else.
//
// Freshness (issue 16): the service sends the board when it changes and otherwise, every
// couple of seconds, a `fresh` event with the age of its last good board, measured on the
// server (so the screen's clock does not matter). The figures' age is that age plus the time
// since it arrived; past STALE_AFTER seconds the page marks its figures stale in place
// (body.stale), rather than covering them with a banner.
(function () {
  const STALE_AFTER = 5;  // seconds: a board is computed every second, vouched for every 2
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);  // never HTML
    if (cls) node.className = cls;
    return node;
  }
  function minutes(s) { return s == null ? '–' : (s < 60 ? Math.round(s) + ' s' : Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s'); }
  function clock(s) {  // 3:05, for large numerals: fewer characters than "3 min 5 s"
    if (s == null) return '–';
    const t = Math.round(s);
    return Math.floor(t / 60) + ':' + String(t % 60).padStart(2, '0');
  }
  function pct(x) { return x == null ? '–' : Math.round(x * 100) + ' %'; }
  function worstLevel(levels) {
    const values = Object.values(levels || {});
    return values.includes('alert') ? 'alert' : values.includes('warn') ? 'warn' : 'ok';
  }

  // connect(url, onBoard, onState): opens the stream; onBoard(board) for each board,
  // onState({age, stale, down}) once a second and on every message (age in seconds, null
  // before the first board; down while the stream reconnects). A stream refused for good
  // (signed out, too many screens) closes, so the page reloads after a pause: that signs in
  // again, or tries again.
  function connect(url, onBoard, onState) {
    let vouchedAge = null, vouchedAt = 0, down = false;
    function tick() {
      const age = vouchedAge == null ? null : vouchedAge + (Date.now() - vouchedAt) / 1000;
      const stale = age != null && age > STALE_AFTER;
      document.body.classList.toggle('stale', stale);
      onState({age, stale, down});
    }
    const source = new EventSource(url, {withCredentials: true});
    source.onopen = () => { down = false; tick(); };
    source.onmessage = (e) => {
      vouchedAge = 0; vouchedAt = Date.now(); down = false;
      onBoard(JSON.parse(e.data));
      tick();
    };
    source.addEventListener('fresh', (e) => {
      const sent = JSON.parse(e.data).age;
      if (sent != null) { vouchedAge = sent; vouchedAt = Date.now(); }
      tick();
    });
    source.onerror = () => {
      down = true; tick();
      if (source.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 10000);
    };
    setInterval(tick, 1000);
  }
  window.IvrBoard = {el, minutes, clock, pct, worstLevel, connect, STALE_AFTER};
})();
