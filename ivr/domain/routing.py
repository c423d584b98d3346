"""Which agent takes which caller. Pure: lists of `Waiting` and `Agent` in, pairs out.

Rules, in order:
0. Only agents who can be rung are offered callers: an agent at `client:NAME` (a softphone)
   while their device is registered and refreshed within IVR_DEVICE_STALE_SECONDS
   (`reachable`); an agent at a number always.
1. Callers are considered by place in line: higher priority first, then earlier virtual start
   (then member, so equal scores are still deterministic, like the sorted set itself).
2. A caller may only go to an agent with one of the caller's skills at a proficiency of at
   least the level the queue's relax steps require for the time already waited
   (e.g. >=4 for the first 30 s, >=2 after, any after 90 s). Relaxing widens the set of
   agents; the caller's place never changes.
3. Among qualifying agents, the one idle longest (earliest `idle_since`) is offered first;
   ties go to the lower agent id.
4. An entry that may not be routed yet (a callback booked for later or waiting for a retry,
   `not_before` in the future; a callback while the queue is closed) keeps its place but is
   set aside (`parked_until`) so it never blocks the callers behind it (issue 12 item 10).
5. Across queues (issue 12 item 11): an agent who serves several queues takes the caller who
   should go first among all of them, by the same rule as inside one queue: priority first,
   then the earlier virtual start, i.e. the longer effective wait (`match_across`). Each
   caller's proficiency threshold comes from their own queue's relax steps, so a caller the
   agent does not qualify for yet is passed over without losing their place.

The store (`ivr/store/redis_queue.py`) reads the head of the line of each competing queue and
the available agents, calls `match_across`, and reserves each pair atomically; it never
decides on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ivr.domain.queueing import Agent, OverflowRule, Presence, RelaxStep, Waiting


@dataclass(frozen=True)
class QueueLine:
    """One queue's routable head of line, with the relax steps that apply to its callers."""

    queue: str
    callers: tuple[Waiting, ...]
    relax: tuple[RelaxStep, ...]


def required_level(relax: Sequence[RelaxStep], waited: float) -> int:
    """The minimum proficiency an agent needs after `waited` seconds; 1 if no step applies."""
    level = 1
    best_after = -1.0
    for step in relax:
        if step.after <= waited and step.after >= best_after:
            level, best_after = step.min_level, step.after
    return level


def service_key(caller: Waiting) -> tuple[int, float, str]:
    """Who goes first, inside a queue and across queues: higher priority, then earlier virtual
    start (the longer effective wait: now - vstart is the same clock for everybody), then the
    member so that ties are still deterministic. Inside one queue this is the sorted set's own
    order (`queueing.score`)."""
    return (-caller.priority, caller.vstart, caller.member)


def line_order(line: Iterable[Waiting]) -> list[Waiting]:
    """Callers in the order they are served."""
    return sorted(line, key=service_key)


def parked_until(caller: Waiting, now: float, callbacks_open: bool) -> float | None:
    """None when `caller` may be routed at `now`; else from when it may be looked at again:
    its `not_before` (a callback booked for later, or waiting for a retry), or `math.inf` for
    a callback while the queue is closed (when it opens is not known in advance: an operator
    flag can open or close a queue at any moment, so the store re-checks on every pass)."""
    if caller.not_before > now:
        return caller.not_before
    if caller.is_callback and not callbacks_open:
        return math.inf
    return None


def idle_order(agents: Iterable[Agent]) -> list[Agent]:
    """Available agents, longest idle first."""
    ready = [a for a in agents if a.presence == Presence.AVAILABLE]
    return sorted(ready, key=lambda a: (a.idle_since, a.id))


def reachable(agents: Iterable[Agent], fresh_after: float) -> tuple[list[Agent], list[Agent]]:
    """(agents that may be rung, softphone agents whose device is unregistered or stale):
    rule 0, before any matching. `fresh_after` is now minus IVR_DEVICE_STALE_SECONDS."""
    ok: list[Agent] = []
    gone: list[Agent] = []
    for agent in agents:
        (ok if agent.reachable(fresh_after) else gone).append(agent)
    return ok, gone


def qualifies(agent: Agent, caller: Waiting, relax: Sequence[RelaxStep], now: float) -> bool:
    """True when `agent` may take `caller` at time `now`."""
    if caller.not_before > now:
        return False
    need = required_level(relax, caller.waited(now))
    return any(agent.level(skill) >= need for skill in caller.skills)


def match(line: Iterable[Waiting], agents: Iterable[Agent], relax: Sequence[RelaxStep],
          now: float) -> list[tuple[Waiting, Agent]]:
    """Pair callers of one queue with agents (see `match_across`)."""
    lines = [QueueLine("", tuple(line), tuple(relax))]
    return [(caller, agent) for _, caller, agent in match_across(lines, agents, now)]


def match_across(lines: Iterable[QueueLine], agents: Iterable[Agent],
                 now: float) -> list[tuple[str, Waiting, Agent]]:
    """Pair callers of several queues with agents: every caller, in `service_key` order over
    all the lines, takes the longest-idle qualifying agent still free. So an agent serving two
    queues goes to the caller who should go first among both, whichever queue's pass runs.
    A caller nobody qualifies for is passed over (keeping their place) so the callers behind
    them can be served by agents the head cannot use. Returns (queue, caller, agent)."""
    free = idle_order(agents)
    order = sorted(((ln, c) for ln in lines for c in ln.callers),
                   key=lambda pair: (*service_key(pair[1]), pair[0].queue))
    pairs: list[tuple[str, Waiting, Agent]] = []
    for line, caller in order:
        if not free:
            break
        for agent in free:
            if qualifies(agent, caller, line.relax, now):
                pairs.append((line.queue, caller, agent))
                free.remove(agent)
                break
    return pairs


def choose_caller(agent: Agent, line: Iterable[Waiting], relax: Sequence[RelaxStep],
                  now: float) -> Waiting | None:
    """The caller a newly available agent should take: the first in line it qualifies for."""
    for caller in line_order(line):
        if qualifies(agent, caller, relax, now):
            return caller
    return None


def overflow_due(rule: OverflowRule | None, caller: Waiting, now: float) -> bool:
    """True when the queue's overflow rule applies to `caller` now. A callback (member
    `cb:...`) never overflows: the customer is no longer on the line."""
    if rule is None or caller.is_callback:
        return False
    if rule.action == "widen" and set(rule.skills) <= set(caller.skills):
        return False  # already widened
    return caller.waited(now) >= rule.after
