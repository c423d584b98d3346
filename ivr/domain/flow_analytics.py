"""Flow analytics: where callers go, retry, give up and get helped, node by node.

Input: rows the store has already grouped (`StepGroup`: one per node, what happened there and
the next node entered, with counts); output: a `NodeFigures` per node, the same for the CLI,
the JSON/CSV API and the admin's flow graph. Definitions (docs/reports.md, Flow analytics):

- entered: times a call entered the node; callers: distinct calls that entered it;
- next: where calls went from it (node -> count); ended: calls whose path ended there;
- dropped: of those, calls not answered by an agent that ended at a node which does not end the
  call by itself (a hang-up node or the built-in goodbye ends calls by design);
- no_input / no_match: retries after silence / invalid input; gave_up: retries used up;
- human: callers who asked for a person there (0 or "agent");
- reached_person / resolved: entries whose call was answered by an agent / contained by
  self-service (containment per path);
- seconds: mean time per entry spent at the node (until the next node or the end);
- choices: menu keys chosen; results: other outcomes noted at the node ("found", ...).

Pure: no SQL, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_CHOSE = re.compile(r"^chose (\S+)$")


@dataclass(frozen=True)
class StepGroup:
    """Visits of one node with the same detail and next node, and what their calls did."""

    node: str
    detail: str  # "" for an entry
    next_node: str | None
    count: int
    answered: int = 0  # visits whose call was answered by an agent
    contained: int = 0  # visits whose call self-service contained
    seconds: float = 0.0  # time spent at the node over these visits


@dataclass
class NodeFigures:
    node: str
    node_type: str | None = None
    entered: int = 0
    callers: int = 0
    next: dict[str, int] = field(default_factory=dict)
    ended: int = 0
    dropped: int = 0
    no_input: int = 0
    no_match: int = 0
    gave_up: int = 0
    human: int = 0
    reached_person: int = 0
    resolved: int = 0
    seconds: float | None = None
    choices: dict[str, int] = field(default_factory=dict)
    results: dict[str, int] = field(default_factory=dict)
    _time: float = 0.0

    @property
    def drop_rate(self) -> float | None:
        return round(self.dropped / self.entered, 4) if self.entered else None

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        out["drop_rate"] = self.drop_rate
        return out


ENDS_BY_DESIGN = ("hangup",)  # node types that end a call themselves: not a drop-off there


def node_figures(groups: Iterable[StepGroup], callers: Mapping[str, int],
                 node_types: Mapping[str, str]) -> list[NodeFigures]:
    """Per-node figures from grouped visits, in order of entries (busiest first)."""
    nodes: dict[str, NodeFigures] = {}
    for g in groups:
        fig = nodes.setdefault(g.node, NodeFigures(g.node, node_types.get(g.node)))
        fig._time += g.seconds
        if g.detail:
            _answer(fig, g)
        else:
            _entry(fig, g)
    for fig in nodes.values():
        fig.callers = callers.get(fig.node, 0)
        fig.seconds = round(fig._time / fig.entered, 1) if fig.entered else None
    return sorted(nodes.values(), key=lambda f: (-f.entered, f.node))


def _entry(fig: NodeFigures, g: StepGroup) -> None:
    fig.entered += g.count
    fig.reached_person += g.answered
    fig.resolved += g.contained
    if g.next_node is None:
        fig.ended += g.count
        if fig.node_type not in ENDS_BY_DESIGN and fig.node != "_goodbye":
            fig.dropped += g.count - g.answered
    else:
        fig.next[g.next_node] = fig.next.get(g.next_node, 0) + g.count


def _answer(fig: NodeFigures, g: StepGroup) -> None:
    detail = g.detail
    if "retries used up" in detail:
        fig.gave_up += g.count
    elif detail.startswith("no input"):
        fig.no_input += g.count
    elif detail.startswith("invalid input"):
        fig.no_match += g.count
    elif detail == "asked for a human":
        fig.human += g.count
    elif (chose := _CHOSE.match(detail)) is not None:
        fig.choices[chose.group(1)] = fig.choices.get(chose.group(1), 0) + g.count
    else:
        key = detail[:80]
        fig.results[key] = fig.results.get(key, 0) + g.count
