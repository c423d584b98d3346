// Zoom and pan for the flow graph's SVG (flow-graph.js): the view is the SVG's viewBox.
// Wheel zooms about the pointer, a drag pans (a press that moves less than DRAG_PX is a click,
// which selects the node under it), buttons zoom in, out and fit, and with the graph focused
// + and - zoom, arrow keys pan. Defines window.IvrFlowZoom.toolbar(box, svg, laid, select).
(function () {
  "use strict";
  var DRAG_PX = 4, STEP = 1.25, PAN_PX = 60;

  function toolbar(box, root, laid, select) {
    var G = window.IvrFlowGraph;
    var view = {x: 0, y: 0, scale: 1};
    function size() { return {w: box.clientWidth || 800, h: Math.max(200, box.clientHeight - 40 || 500)}; }
    function apply() {
      var s = size();
      root.setAttribute("width", s.w);
      root.setAttribute("height", s.h);
      root.setAttribute("viewBox", [view.x, view.y, s.w / view.scale, s.h / view.scale].join(" "));
      root.dataset.scale = view.scale.toFixed(3);
    }
    function zoom(factor, cx, cy) {  // cx, cy: the point that stays put, in screen px
      var s = size(), next = Math.min(G.MAX_SCALE, Math.max(G.MIN_SCALE, view.scale * factor));
      var px = cx === undefined ? s.w / 2 : cx, py = cy === undefined ? s.h / 2 : cy;
      view.x += px / view.scale - px / next;
      view.y += py / view.scale - py / next;
      view.scale = next;
      apply();
    }
    function fit() {
      var s = size();
      view.scale = Math.min(1, s.w / laid.width, s.h / laid.height);
      view.x = 0; view.y = 0;
      apply();
    }
    var bar = document.createElement("div");
    bar.className = "graph-tools";
    [["Zoom in", function () { zoom(STEP); }], ["Zoom out", function () { zoom(1 / STEP); }],
      ["Fit", fit]].forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button"; button.textContent = b[0];
      button.addEventListener("click", b[1]);
      bar.appendChild(button);
    });
    var note = document.createElement("span");
    note.className = "note";
    note.textContent = laid.nodes.length + " nodes · drag to pan, wheel to zoom, click a node to go to its line";
    bar.appendChild(note);

    root.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = root.getBoundingClientRect();
      zoom(ev.deltaY < 0 ? STEP : 1 / STEP, ev.clientX - r.left, ev.clientY - r.top);
    }, {passive: false});
    var press = null;
    root.addEventListener("pointerdown", function (ev) {
      press = {x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false};
    });
    root.addEventListener("pointermove", function (ev) {
      if (!press) { return; }
      var dx = ev.clientX - press.x, dy = ev.clientY - press.y;
      if (!press.moved && Math.abs(dx) + Math.abs(dy) < DRAG_PX) { return; }
      if (!press.moved) { root.setPointerCapture(ev.pointerId); }
      press.moved = true;
      view.x = press.vx - dx / view.scale; view.y = press.vy - dy / view.scale;
      apply();
    });
    root.addEventListener("pointerup", function (ev) {
      var was = press; press = null;
      if (!was || was.moved) { return; }
      var g = ev.target.closest ? ev.target.closest("g.node") : null;
      if (!g || !g.dataset.line) { return; }
      select(laid.nodes.find(function (n) { return n.id === g.dataset.node; }));
    });
    box.addEventListener("keydown", function (ev) {
      if (ev.target.closest && ev.target.closest("g.node") && ev.key === "Enter") { return; }
      var k = ev.key, s = PAN_PX / view.scale;
      var moves = {ArrowLeft: [-s, 0], ArrowRight: [s, 0], ArrowUp: [0, -s], ArrowDown: [0, s]};
      if (k === "+" || k === "=") { zoom(STEP); } else if (k === "-") { zoom(1 / STEP); } else if (moves[k]) {
        view.x += moves[k][0]; view.y += moves[k][1]; apply();
      } else { return; }
      ev.preventDefault();
    });
    requestAnimationFrame(function () {
      var s = size();  // start readable: fit when that is not too small, else the start at 60 %
      view.scale = Math.max(G.START_MIN, Math.min(1, s.w / laid.width, s.h / laid.height));
      var start = laid.nodes.find(function (n) { return n.start; });
      if (start && laid.height * view.scale > s.h) {  // too tall to fit: the start in the middle
        view.y = Math.max(0, start.y + start.h / 2 - s.h / (2 * view.scale));
      }
      apply();
    });
    apply();
    return bar;
  }

  window.IvrFlowZoom = {toolbar: toolbar};
})();
