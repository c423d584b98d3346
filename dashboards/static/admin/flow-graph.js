// Draws the flow graph laid out by flow-layout.js as SVG made with DOM calls (node ids and
// labels set as text: flow text never passes through a parser, issue 12), with zoom (wheel,
// buttons, + and - keys) and pan (drag, arrow keys), and a click (or Enter) on a node sends a
// "flow-node-select" event {id, line} from the graph's box; the editor jumps to the line.
// Defines window.IvrFlowGraph.draw(box, graph) -> the layout drawn (or null for no nodes).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var MIN_SCALE = 0.1, MAX_SCALE = 3, START_MIN = 0.6;

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // A smooth path through dagre's edge points (quadratic curves between their midpoints).
  function pathThrough(points) {
    var d = "M" + points[0].x + "," + points[0].y;
    for (var i = 1; i < points.length - 1; i++) {
      var p = points[i], q = points[i + 1];
      d += " Q" + p.x + "," + p.y + " " + (p.x + q.x) / 2 + "," + (p.y + q.y) / 2;
    }
    var last = points[points.length - 1];
    return d + " L" + last.x + "," + last.y;
  }

  function drawGroup(root, grp) {
    var box = svg("g", {"class": "group", "data-group": grp.id});
    box.appendChild(svg("rect", {x: grp.x, y: grp.y, width: grp.w, height: grp.h, rx: 10}));
    box.appendChild(svg("text", {x: grp.x + 10, y: grp.y + 16}, grp.label));
    root.appendChild(box);
  }

  function drawEdge(root, e) {
    root.appendChild(svg("path", {"class": "edge", d: pathThrough(e.points), "marker-end": "url(#arrow)",
      "data-source": e.source, "data-target": e.target}));
    if (e.label) {
      root.appendChild(svg("text", {"class": "edge-label", x: e.lx, y: e.ly + 4, "text-anchor": "middle"}, e.label));
    }
  }

  function drawNode(root, n, select) {
    var cls = "node" + (n.unreachable ? " unreachable" : "") + (n.start ? " start" : "") + (n.hub ? " hub" : "");
    var box = svg("g", {"class": cls, "data-node": n.id});
    if (!n.hub) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("aria-label", n.id + " (" + n.kind + ")" + (n.line ? ", line " + n.line : ""));
      if (n.line) { box.dataset.line = n.line; }
    }
    box.appendChild(svg("rect", {x: n.x, y: n.y, width: n.w, height: n.h, rx: n.hub ? 15 : 6,
      fill: n.hub ? "#f3f3f3" : n.unreachable ? "#fde8e8" : "#e8f0fe",
      stroke: n.hub ? "#666" : n.unreachable ? "#b00020" : "#1a4d8f",
      "stroke-dasharray": n.unreachable ? "5 3" : "none", "stroke-width": n.start ? 2.5 : 1.2}));
    if (n.hub) {
      box.appendChild(svg("text", {x: n.x + n.w / 2, y: n.y + n.h / 2 + 4, "text-anchor": "middle", "class": "kind"}, n.label));
    } else {
      box.appendChild(svg("text", {x: n.x + 8, y: n.y + 18, "class": "name"}, n.label));
      box.appendChild(svg("text", {x: n.x + 8, y: n.y + 35, "class": "kind"}, n.kind + (n.unreachable ? " (unreachable)" : "")));
      box.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { select(n); } });
    }
    root.appendChild(box);
  }

  function draw(box, graph) {
    box.textContent = "";
    if (!graph || !graph.nodes.length) { return null; }
    var laid = window.IvrFlowLayout.layout(graph);
    var root = svg("svg", {"class": "flow-graph", role: "group", "aria-label": "graph of the call flow",
      "data-layout": laid.engine});
    var marker = svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"});
    marker.appendChild(svg("path", {d: "M0,0 L10,5 L0,10 z"}));
    root.appendChild(svg("defs", {})).appendChild(marker);
    var select = function (n) {
      box.dispatchEvent(new CustomEvent("flow-node-select", {detail: {id: n.id, line: n.line}, bubbles: true}));
    };
    laid.groups.forEach(function (grp) { drawGroup(root, grp); });
    laid.edges.forEach(function (e) { drawEdge(root, e); });
    laid.nodes.forEach(function (n) { drawNode(root, n, select); });
    box.appendChild(window.IvrFlowZoom.toolbar(box, root, laid, select));
    box.appendChild(root);
    return laid;
  }

  window.IvrFlowGraph = {draw: draw, MIN_SCALE: MIN_SCALE, MAX_SCALE: MAX_SCALE, START_MIN: START_MIN};
})();
