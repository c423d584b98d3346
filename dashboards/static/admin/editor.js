// The admin flow editor: YAML highlighting over a plain textarea, live validation (errors at
// their line), diff and graph from the server, and a test call against the draft.
// Self-written on purpose: a few dozen lines instead of a bundled editor; nothing is fetched
// from elsewhere. Every text from the flow or the server is inserted with textContent or
// setAttribute, the graph included (flow-graph.js; laid out by dagre in flow-layout.js).
(function () {
  "use strict";
  var root = document.getElementById("flow-editor");
  if (!root) { return; }
  var source = document.getElementById("source");
  var highlight = document.getElementById("highlight");
  var gutter = document.getElementById("gutter");
  var statusBox = document.getElementById("status");
  var errorList = document.getElementById("errors");
  var diffBox = document.getElementById("diff");
  var graphBox = document.getElementById("graph");
  var publishButton = document.getElementById("publish");
  var csrf = root.dataset.csrf;
  var errorLines = {};
  var timer = null;
  var seq = 0;

  // Text from the flow (the YAML, error messages quoting it) is only ever put in the page as
  // text nodes and attribute values set through the DOM, never as an HTML string: a string
  // escaper forgets a case (this one once left `"` in a title attribute, issue 12).
  function span(cls, text) {
    var node = document.createElement("span");
    node.className = cls;
    node.textContent = text;
    return node;
  }

  // The YAML line as nodes: plain text, with key, string, number, boolean and comment spans.
  function highlightLine(line, out) {
    function text(t) { if (t) { out.appendChild(document.createTextNode(t)); } }
    var m = /^(\s*)(#.*)?$/.exec(line);
    if (m && m[2]) { text(m[1]); out.appendChild(span("t-comment", m[2])); return; }
    var rest = line;
    var key = /^(\s*(?:- )?)(['"]?[\w\-*#]+['"]?)(\s*:)(?=\s|$)/.exec(rest);
    if (key) {
      text(key[1]); out.appendChild(span("t-key", key[2])); text(key[3]);
      rest = rest.slice(key[0].length);
    }
    var token = /('[^']*'|"[^"]*"|#.*$|\b\d+(?:\.\d+)?\b|\b(?:true|false|yes|no|on|off|null)\b)/g;
    var last = 0, t;
    while ((t = token.exec(rest)) !== null) {
      text(rest.slice(last, t.index));
      var cls = t[0][0] === "#" ? "t-comment" : /^['"]/.test(t[0]) ? "t-string"
        : /^\d/.test(t[0]) ? "t-number" : "t-bool";
      out.appendChild(span(cls, t[0]));
      last = t.index + t[0].length;
    }
    text(rest.slice(last));
  }

  function render() {
    var lines = source.value.split("\n");
    var code = document.createDocumentFragment(), numbers = document.createDocumentFragment();
    lines.forEach(function (line, i) {
      var n = i + 1, into = code;
      if (errorLines[n]) { into = code.appendChild(span("t-error-line", "")); }
      if (line) { highlightLine(line, into); } else { into.appendChild(document.createTextNode(" ")); }
      code.appendChild(document.createTextNode("\n"));
      if (errorLines[n]) {
        var mark = numbers.appendChild(span("gutter-error", String(n)));
        mark.setAttribute("title", errorLines[n]);
      } else {
        numbers.appendChild(document.createTextNode(String(n)));
      }
      if (n < lines.length) { numbers.appendChild(document.createTextNode("\n")); }
    });
    highlight.replaceChildren(code);
    gutter.replaceChildren(numbers);
    syncScroll();
  }

  function syncScroll() {
    highlight.scrollTop = source.scrollTop;
    highlight.scrollLeft = source.scrollLeft;
    gutter.scrollTop = source.scrollTop;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); });
  }

  function goToLine(n) {
    var lines = source.value.split("\n");
    var pos = 0;
    for (var i = 0; i < n - 1 && i < lines.length; i++) { pos += lines[i].length + 1; }
    source.focus();
    source.setSelectionRange(pos, pos + (lines[n - 1] || "").length);
    source.scrollTop = Math.max(0, (n - 5) * 18);
    syncScroll();
  }

  function showErrors(errors) {
    errorLines = {};
    errorList.textContent = "";
    errors.forEach(function (e) {
      if (e.here) { errorLines[e.line] = (errorLines[e.line] ? errorLines[e.line] + "; " : "") + e.message; }
      var li = document.createElement("li");
      li.dataset.line = e.line;
      li.textContent = (e.here ? "line " + e.line : e.file + ":" + e.line) + ": " + e.message;
      if (e.here) { li.addEventListener("click", function () { goToLine(e.line); }); }
      errorList.appendChild(li);
    });
  }

  function showDiff(lines) {
    diffBox.textContent = "";
    if (!lines.length) { diffBox.textContent = "(no changes)"; return; }
    lines.forEach(function (line) {
      var span = document.createElement("span");
      span.className = line[0] === "+" ? "add" : line[0] === "-" ? "del" : line[0] === "@" ? "hunk" : "";
      span.textContent = line + "\n";
      diffBox.appendChild(span);
    });
  }

  // The flow graph from the server's layout (ivr/flows/graph.py graph_drawing): SVG elements
  // made here, node ids and labels set as text, so flow text never passes through a parser.
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // The flow graph: the server sends nodes and edges (ivr/flows/graph.py graph_drawing);
  // flow-layout.js lays them out with dagre and flow-graph.js draws them with DOM calls.
  // A click on a node (or Enter) jumps to its line here.
  function drawGraph(g) {
    if (window.IvrFlowGraph) { window.IvrFlowGraph.draw(graphBox, g); }
  }
  graphBox.addEventListener("flow-node-select", function (ev) {
    if (ev.detail.line) { goToLine(ev.detail.line); }
  });

  // Traffic on the graph (issue 15): the flow analytics of the last days (/api/reports/flows,
  // ivr/domain/flow_analytics.py), read once per page, colour each node by how many callers
  // entered it and how many hung up there, with the numbers in a <title> (shown on hover).
  // Apart from drawGraph on purpose: the layout may change, the colouring only needs
  // g.node[data-node] and its rect.
  var traffic = null;
  function loadTraffic() {
    if (traffic !== null || !root.dataset.trafficUrl) { return Promise.resolve(traffic); }
    traffic = {};
    return fetch(root.dataset.trafficUrl, {credentials: "same-origin",
      headers: {"Accept": "application/json"}}).then(function (r) { return r.ok ? r.json() : {nodes: []}; })
      .then(function (data) {
        (data.nodes || []).forEach(function (n) { traffic[n.node] = n; });
        return traffic;
      }).catch(function () { return traffic; });
  }
  function trafficFill(share) {  // white to dark blue; text stays dark, so only up to 55 %
    var mix = function (a, b) { return Math.round(a + (b - a) * share * 0.55); };
    return "rgb(" + mix(255, 26) + "," + mix(255, 77) + "," + mix(255, 143) + ")";
  }
  function dropStroke(rate) {
    if (rate >= 0.3) { return "#b00020"; }
    if (rate >= 0.1) { return "#b35c00"; }
    return null;
  }
  function trafficWords(id, n) {
    var pct = function (x) { return x == null ? "–" : Math.round(x * 100) + " %"; };
    var next = Object.keys(n.next || {}).sort(function (a, b) { return n.next[b] - n.next[a] || (a < b ? -1 : 1); })
      .slice(0, 4).map(function (k) { return k + " " + n.next[k]; }).join(", ");
    return id + ": " + n.entered + " entered (" + n.callers + " callers), " + n.dropped +
      " hung up here (" + pct(n.drop_rate) + "), " + n.no_input + " no input, " + n.no_match +
      " no match, " + n.reached_person + " reached a person" + (next ? "; next: " + next : "");
  }
  function paintTraffic() {
    loadTraffic().then(function (t) {
      if (!t) { return; }
      var most = Math.max.apply(null, [1].concat(Object.keys(t).map(function (k) { return t[k].entered; })));
      Array.prototype.forEach.call(graphBox.querySelectorAll("g.node"), function (box) {
        var n = t[box.getAttribute("data-node")], rect = box.querySelector("rect");
        if (!n || !rect || box.classList.contains("unreachable")) { return; }
        rect.setAttribute("fill", trafficFill(n.entered / most));
        var stroke = dropStroke(n.drop_rate || 0);
        if (stroke) { rect.setAttribute("stroke", stroke); rect.setAttribute("stroke-width", 3); }
        box.setAttribute("data-entered", n.entered);
        box.setAttribute("data-drop-rate", n.drop_rate == null ? "" : n.drop_rate);
        box.setAttribute("tabindex", "0");
        var words = trafficWords(box.getAttribute("data-node"), n);
        box.setAttribute("aria-label", words);
        box.insertBefore(svg("title", {}, words), box.firstChild);
      });
    });
  }

  function check() {
    var mine = ++seq;
    statusBox.textContent = "Checking…";
    post(root.dataset.checkUrl, {text: source.value}).then(function (res) {
      if (mine !== seq) { return; }
      showErrors(res.errors || []);
      statusBox.textContent = res.ok ? "Valid: ready to publish." :
        "Refused: " + res.errors.length + " problem(s); it cannot be published.";
      statusBox.className = "status " + (res.ok ? "ok" : "bad");
      publishButton.disabled = !res.ok;
      showDiff(res.diff || []);
      drawGraph(res.graph);
      paintTraffic();
      render();
    }).catch(function () { statusBox.textContent = "Could not reach the server to check."; });
  }

  // Chromium fires one input event per inserted line when text is pasted (or filled by a
  // test): drawing once per frame, not per event, keeps a 300-line paste from taking seconds.
  var drawPending = false;
  function renderSoon() {
    if (drawPending) { return; }
    drawPending = true;
    requestAnimationFrame(function () { drawPending = false; render(); });
  }

  source.addEventListener("input", function () {
    renderSoon();
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  });
  source.addEventListener("scroll", syncScroll);
  source.addEventListener("keydown", function (ev) {
    if (ev.key === "Tab") {  // two spaces, as YAML wants; Shift+Tab still leaves the field
      if (ev.shiftKey) { return; }
      ev.preventDefault();
      var s = source.selectionStart;
      source.setRangeText("  ", s, source.selectionEnd, "end");
      source.dispatchEvent(new Event("input"));
    }
  });
  Array.prototype.forEach.call(errorList.querySelectorAll("li"), function (li) {
    errorLines[li.dataset.line] = li.textContent;
  });
  render();
  check();

  // -- test call -------------------------------------------------------------------------
  var answers = [], startedAt = null, trialSeq = 0;
  var trialLog = document.getElementById("trial-log");

  // Each answer replays the call from the start. Requests can finish out of order (a fast
  // second key press), so only the newest request's answer is drawn: an older one arriving
  // late would otherwise wipe out the turns the caller has already reached.
  function runTrial() {
    var seq = ++trialSeq;
    post(root.dataset.trialUrl, {text: source.value, answers: answers.slice(), at: startedAt}).then(function (res) {
      if (seq !== trialSeq) { return; }
      trialLog.textContent = "";
      if (!res.ok) {
        var li = document.createElement("li");
        li.textContent = "The draft has errors; fix them first.";
        trialLog.appendChild(li);
        return;
      }
      res.turns.forEach(function (turn, i) {
        if (i > 0) {
          var a = answers[i - 1], you = document.createElement("li");
          you.className = "caller";
          you.textContent = "You: " + (a.digits ? "pressed " + a.digits : a.speech ? "said \u201c" + a.speech + "\u201d" : "(silence)");
          trialLog.appendChild(you);
        }
        var li = document.createElement("li");
        li.className = "ivr";
        li.textContent = "IVR: " + turn.heard.join(" ") + (turn.waits_for === "keys" ? "" : " [call " + turn.waits_for + "]");
        trialLog.appendChild(li);
      });
    });
  }

  function answer(a) { if (startedAt === null) { return; } answers.push(a); runTrial(); }

  document.getElementById("trial-start").addEventListener("click", function () {
    answers = []; startedAt = Date.now() / 1000; runTrial();
  });
  Array.prototype.forEach.call(document.querySelectorAll(".key"), function (b) {
    b.addEventListener("click", function () { answer({digits: b.dataset.key}); });
  });
  document.getElementById("trial-send").addEventListener("click", function () {
    var box = document.getElementById("trial-digits");
    answer({digits: box.value}); box.value = "";
  });
  document.getElementById("trial-silence").addEventListener("click", function () { answer({}); });
  document.getElementById("trial-say").addEventListener("click", function () {
    var box = document.getElementById("trial-speech");
    answer({speech: box.value}); box.value = "";
  });
})();
