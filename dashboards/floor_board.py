"""The agent floor as the wallboard shows it live (docs/agent-floor.md): which agents have
their caller on hold right now and for how long, and how many callers each queue has on hold.

Read from the floor state (ivr/store/floor.py) of the calls agents are on: one hash read per
agent on a call, once per board. Today's totals (mean hold, transfer rate, after-call work)
are not here: they come from the outcome database with the rest of today's figures
(dashboards/today.py, dashboards/agent_stats.py). Must not import Flask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.store.floor import FloorStore


@dataclass(frozen=True)
class FloorNow:
    held_for: dict[str, float] = field(default_factory=dict)  # agent -> seconds on hold now
    held_callers: dict[str, int] = field(default_factory=dict)  # queue -> callers on hold now


def floor_now(store: FloorStore, calls: Mapping[str, str], now: float) -> FloorNow:
    """`calls`: agent id -> the caller's CallSid of the call they are on. An agent counts as
    holding when the caller is on hold and the call is theirs (role `agent`: a colleague
    they consult meanwhile is talking, not holding); each held caller counts once, for the
    queue of their visit."""
    held_for: dict[str, float] = {}
    per_queue: Counter[str] = Counter()
    counted: set[str] = set()
    for agent, call in calls.items():
        floor = store.load(call)
        if floor is None or floor.ended or floor.held_since is None:
            continue
        mine = floor.mine(agent)
        if mine is None or mine.role != "agent":
            continue
        held_for[agent] = round(max(0.0, now - floor.held_since), 1)
        if call not in counted:
            counted.add(call)
            per_queue[floor.queue] += 1
    return FloorNow(held_for, dict(per_queue))
