// The flow graph's layout (issue 16): a layered drawing computed by dagre (vendored from npm,
// dashboards/static/vendor/README.md): ranks left to right like the call, few crossings
// (dagre's barycentre ordering), and edge labels laid out as nodes of their own so they keep
// clear of each other and of the boxes. Pure: takes the server's graph data
// (ivr/flows/graph.py graph_drawing: nodes, edges, groups) and returns positions; drawing is
// flow-graph.js's business, so other views of the same graph (drop-off colouring) reuse both.
// Defines window.IvrFlowLayout.layout(graph) -> {engine, width, height, nodes, edges, groups}.
(function () {
  "use strict";
  var BOX = {w: 170, h: 44}, HUB = {w: 150, h: 30};
  var CHAR_W = 6.6, LABEL_H = 16;  // an 11 px label's size, for dagre to make room

  function nodeSize(n) { return n.hub ? {w: Math.max(HUB.w, n.label.length * CHAR_W + 16), h: HUB.h} : BOX; }

  function build(graph) {
    var g = new dagre.graphlib.Graph({multigraph: true, compound: true});
    g.setGraph({rankdir: "LR", nodesep: 18, ranksep: 60, edgesep: 12, marginx: 16, marginy: 16});
    g.setDefaultEdgeLabel(function () { return {}; });
    graph.nodes.forEach(function (n) {
      var size = nodeSize(n);
      g.setNode(n.id, {width: size.w, height: size.h});
    });
    (graph.groups || []).forEach(function (grp) {
      g.setNode(grp.id, {label: grp.label, paddingTop: 22});
      grp.members.forEach(function (m) { if (g.hasNode(m)) { g.setParent(m, grp.id); } });
    });
    graph.edges.forEach(function (e, i) {
      var label = e.label || "";
      g.setEdge(e.source, e.target, {width: label ? label.length * CHAR_W + 6 : 0,
        height: label ? LABEL_H : 0, labelpos: "c", minlen: 1}, "e" + i);
    });
    return g;
  }

  function layout(graph) {
    var g = build(graph);
    dagre.layout(g);
    var nodes = graph.nodes.map(function (n) {
      var p = g.node(n.id);
      return Object.assign({}, n, {x: p.x - p.width / 2, y: p.y - p.height / 2, w: p.width, h: p.height});
    });
    var edges = graph.edges.map(function (e, i) {
      var p = g.edge(e.source, e.target, "e" + i);
      return Object.assign({}, e, {points: p.points, lx: p.x, ly: p.y, lw: p.width, lh: p.height});
    });
    var groups = (graph.groups || []).map(function (grp) {
      var p = g.node(grp.id);
      return {id: grp.id, label: grp.label, x: p.x - p.width / 2, y: p.y - p.height / 2, w: p.width, h: p.height};
    });
    var size = g.graph();
    return {engine: "dagre " + dagre.version, width: Math.ceil(size.width), height: Math.ceil(size.height),
      nodes: nodes, edges: edges, groups: groups};
  }

  window.IvrFlowLayout = {layout: layout};
})();
