"""The graph of a call flow (nodes, edges, unreachable nodes, each node's line) for drawing.

The admin editor draws drafts, and drafts are often invalid (an unreachable node is itself a
validation error), so the graph is read leniently from the YAML rather than from a loaded
`Flow`: every node under `nodes:`, and an edge wherever a node's field names another node
(`next`, `goto` of an option or case, `on_failure`, `otherwise`, ...). The layout is not made
here: the editor lays the graph out with a layered-layout library (dagre, issue 16) and
draws it with DOM calls. Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ivr.config.yaml_lines import YamlLines
from ivr.domain.flow.yamlsource import load_data

# Fields that hold prompts, variables or queue names, never a node to go to.
NOT_TARGETS = frozenset({"type", "say", "prompt", "invalid", "store", "queue", "skill", "speech",
                         "language", "when", "if", "source", "params", "mailbox", "number",
                         "reason", "set", "hours", "question", "description", "resolves",
                         "fails", "template", "text"})
# The branches of an `hours` node that are not "open": drawn through one fan-out node.
FAN_OUT = ("closed", "holiday", "emergency")


@dataclass
class FlowGraph:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> type
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, label)
    start: str = ""
    unreachable: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # id -> line of its key in the YAML


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
    where = YamlLines(text)
    graph.lines = {k: line for k in graph.nodes if (line := where.key_line("nodes", k))}
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
    """Which nodes the roots reach (breadth first); the others are unreachable."""
    seen: set[str] = set(roots)
    frontier = list(roots)
    while frontier:
        following = []
        for node_id in frontier:
            for source, target, _ in graph.edges:
                if source == node_id and target not in seen:
                    seen.add(target)
                    following.append(target)
        frontier = following
    graph.unreachable = [n for n in graph.nodes if n not in seen]


def graph_drawing(graph: FlowGraph) -> dict[str, Any]:
    """The graph as data for the admin editor, which lays it out with dagre (vendored,
    dashboards/static/admin/flow-layout.js) and builds the SVG with DOM calls, so flow text
    only ever becomes text nodes there (issue 12). Nodes carry their line in the YAML (a
    click jumps there). The closed/holiday/emergency branches of `hours` nodes that share
    the same targets go through one fan-out node inside a group (issue 16: four hours nodes
    drew twelve crossing edges to the same three nodes)."""
    nodes = [{"id": node_id, "label": node_id[:22], "kind": kind[:12],
              "line": graph.lines.get(node_id), "unreachable": node_id in graph.unreachable,
              "start": node_id == graph.start} for node_id, kind in graph.nodes.items()]
    edges, groups = _fan_outs(graph)
    nodes.extend({"id": g["hub"], "label": " · ".join(g["labels"]), "kind": "fan-out",
                  "line": None, "unreachable": False, "start": False, "hub": True}
                 for g in groups)
    return {"nodes": nodes, "edges": edges,
            "groups": [{"id": g["id"], "label": "closed, holiday, emergency",
                        "members": [g["hub"], *g["targets"]]} for g in groups]}


def _fan_outs(graph: FlowGraph) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The edges to draw, with each `hours` node's closed/holiday/emergency branches replaced
    by one edge to a shared fan-out node (one per distinct set of targets), and the groups."""
    branches: dict[str, dict[str, str]] = {}
    for source, target, label in graph.edges:
        if graph.nodes.get(source) == "hours" and label in FAN_OUT:
            branches.setdefault(source, {})[label] = target
    hubs: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for source, chosen in branches.items():
        key = tuple(sorted(chosen.items()))
        n = len(hubs) + 1
        hub = hubs.setdefault(key, {"id": f"group:{n}", "hub": f"fan-out:{n}",
                                    "labels": [k for k in FAN_OUT if k in chosen],
                                    "targets": sorted(set(chosen.values())), "from": []})
        hub["from"].append(source)
    edges = [{"source": s, "target": t, "label": label[:16]} for s, t, label in graph.edges
             if not (s in branches and label in FAN_OUT)]
    for pairs, hub in hubs.items():
        edges.extend({"source": s, "target": hub["hub"], "label": ""} for s in hub["from"])
        edges.extend({"source": hub["hub"], "target": t, "label": label} for label, t in pairs)
    return edges, list(hubs.values())
