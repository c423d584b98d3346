"""The graph of a call flow (nodes, edges, unreachable nodes) and its SVG drawing.

The admin editor draws drafts, and drafts are often invalid (an unreachable node is itself a
validation error), so the graph is read leniently from the YAML rather than from a loaded
`Flow`: every node under `nodes:`, and an edge wherever a node's field names another node
(`next`, `goto` of an option or case, `on_failure`, `otherwise`, ...). Layout is by distance
from `start` (columns), which reads left to right like the call. The SVG is built here with
every text escaped, so no script runs in the page. Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any

import yaml

from ivr.domain.flow.yamlsource import load_data

# Fields that hold prompts, variables or queue names, never a node to go to.
NOT_TARGETS = frozenset({"type", "say", "prompt", "invalid", "store", "queue", "skill", "speech",
                         "language", "when", "if", "source", "params", "mailbox", "number",
                         "reason", "set", "hours", "question", "description", "resolves",
                         "fails", "template", "text"})
BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 170, 44, 70, 22, 20


@dataclass
class FlowGraph:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> type
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, label)
    start: str = ""
    unreachable: list[str] = field(default_factory=list)
    layers: list[list[str]] = field(default_factory=list)


def build_graph(text: str) -> FlowGraph:
    """The graph of a flow's YAML text; an empty graph when the text is not a flow mapping."""
    try:
        data = load_data(text)
    except yaml.YAMLError:
        return FlowGraph()
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        return FlowGraph()
    graph = FlowGraph(start=str(data.get("start") or ""))
    raw_nodes = {str(k): v for k, v in data["nodes"].items()}
    graph.nodes = {k: str(v.get("type", "?")) if isinstance(v, dict) else "?"
                   for k, v in raw_nodes.items()}
    for node_id, body in raw_nodes.items():
        for label, target in _targets(body, ""):
            if target in graph.nodes and target != node_id:
                graph.edges.append((node_id, target, label))
    roots = [r for r in (graph.start, str(data.get("human") or "")) if r in graph.nodes]
    _layout(graph, roots)
    return graph


def _targets(value: Any, label: str) -> Iterator[tuple[str, str]]:
    """(label, string) for every string reachable in a node body outside NOT_TARGETS keys."""
    if isinstance(value, str):
        yield label, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if str(key) not in NOT_TARGETS:
                yield from _targets(item, str(key) if label in ("", "options", "cases")
                                    else label)
    elif isinstance(value, list):
        for item in value:
            yield from _targets(item, label)


def _layout(graph: FlowGraph, roots: list[str]) -> None:
    """Columns by breadth-first distance from the roots; unreachable nodes in a last column."""
    seen: dict[str, int] = {r: 0 for r in roots}
    frontier = list(roots)
    while frontier:
        following = []
        for node_id in frontier:
            for source, target, _ in graph.edges:
                if source == node_id and target not in seen:
                    seen[target] = seen[node_id] + 1
                    following.append(target)
        frontier = following
    depth = max(seen.values(), default=-1) + 1
    graph.layers = [[n for n in graph.nodes if seen.get(n) == d] for d in range(depth)]
    graph.unreachable = [n for n in graph.nodes if n not in seen]
    if graph.unreachable:
        graph.layers.append(list(graph.unreachable))


def _positions(graph: FlowGraph) -> tuple[dict[str, tuple[int, int]], int, int]:
    """Each node's box corner, and the drawing's width and height."""
    where: dict[str, tuple[int, int]] = {}
    for col, layer in enumerate(graph.layers):
        for row, node_id in enumerate(layer):
            where[node_id] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + max(len(graph.layers), 1) * (BOX_W + GAP_X)
    height = PAD * 2 + max((len(layer) for layer in graph.layers), default=1) * (BOX_H + GAP_Y)
    return where, width, height


def graph_drawing(graph: FlowGraph) -> dict[str, Any]:
    """The drawing as data for the admin editor, which builds the SVG itself with DOM calls
    (flow text only ever becomes text nodes there; issue 12): size, boxes and curves."""
    where, width, height = _positions(graph)
    unreachable = set(graph.unreachable)
    edges = []
    for source, target, label in graph.edges:
        path, (lx, ly) = _curve(where[source], where[target])
        edges.append({"d": path, "label": label[:16], "x": lx, "y": ly})
    return {"width": width, "height": height, "box": [BOX_W, BOX_H], "edges": edges,
            "nodes": [{"id": node_id, "label": node_id[:22], "kind": graph.nodes[node_id][:12],
                       "x": x, "y": y, "unreachable": node_id in unreachable,
                       "start": node_id == graph.start} for node_id, (x, y) in where.items()]}


def _curve(a: tuple[int, int], b: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    """The path of an arrow from box `a` to box `b`, and where its label goes."""
    (x1, y1), (x2, y2) = a, b
    ax, ay = x1 + BOX_W, y1 + BOX_H // 2
    bx, by = x2, y2 + BOX_H // 2
    if x2 <= x1:  # a loop back: leave from the bottom and come in from below
        ax, ay, bx, by = x1 + BOX_W // 2, y1 + BOX_H, x2 + BOX_W // 2, y2 + BOX_H
    mid = (ax + bx) // 2
    return f"M{ax},{ay} C{mid},{ay} {mid},{by} {bx},{by}", (mid, (ay + by) // 2 - 3)


def render_svg(graph: FlowGraph) -> str:
    """An SVG drawing: boxes per node (unreachable ones dashed red), arrows per edge."""
    where, width, height = _positions(graph)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="graph of the call flow">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
             'fill="#555"/></marker></defs>']
    parts.extend(_edge_svg(where, edge) for edge in graph.edges)
    unreachable = set(graph.unreachable)
    for node_id, (x, y) in where.items():
        parts.append(_node_svg(node_id, graph.nodes[node_id], x, y, node_id in unreachable,
                               node_id == graph.start))
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_svg(where: dict[str, tuple[int, int]], edge: tuple[str, str, str]) -> str:
    source, target, label = edge
    d, (lx, ly) = _curve(where[source], where[target])
    path = (f'<path d="{d}" fill="none" '
            f'stroke="#555" stroke-width="1.3" marker-end="url(#arrow)"/>')
    if not label:
        return path
    return (path + f'<text x="{lx}" y="{ly}" font-size="11" fill="#333" '
            f'text-anchor="middle">{escape(label[:16])}</text>')


def _node_svg(node_id: str, kind: str, x: int, y: int, unreachable: bool, start: bool) -> str:
    style = ('fill="#fde8e8" stroke="#b00020" stroke-dasharray="5 3"' if unreachable
             else 'fill="#e8f0fe" stroke="#1a4d8f"')
    width = 2.5 if start else 1.2
    note = " (unreachable)" if unreachable else ""
    return (f'<g class="node{" unreachable" if unreachable else ""}" data-node="'
            f'{escape(node_id)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="6" {style} stroke-width="{width}"/>'
            f'<text x="{x + 8}" y="{y + 18}" font-size="13" font-weight="bold" fill="#111">'
            f'{escape(node_id[:22])}</text><text x="{x + 8}" y="{y + 35}" font-size="11" '
            f'fill="#444">{escape(kind[:12])}{note}</text></g>')
