"""Which agent takes which caller. Pure: lists of `Waiting` and `Agent` in, pairs out.

Rules, in order:
1. Callers are considered by place in line: higher priority first, then earlier virtual start
   (then member, so equal scores are still deterministic, like the sorted set itself).
2. A caller may only go to an agent with one of the caller's skills at a proficiency of at
   least the level the queue's relax steps require for the time already waited
   (e.g. >=4 for the first 30 s, >=2 after, any after 90 s). Relaxing widens the set of
   agents; the caller's place never changes.
3. Among qualifying agents, the one idle longest (earliest `idle_since`) is offered first;
   ties go to the lower agent id.
4. A callback with `not_before` in the future keeps its place but is skipped until then.

The store (`ivr/store/redis_queue.py`) reads the head of the line and the available agents,
calls `match`, and reserves each pair atomically; it never decides on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ivr.domain.queueing import Agent, OverflowRule, Presence, RelaxStep, Waiting


def required_level(relax: Sequence[RelaxStep], waited: float) -> int:
    """The minimum proficiency an agent needs after `waited` seconds; 1 if no step applies."""
    level = 1
    best_after = -1.0
    for step in relax:
        if step.after <= waited and step.after >= best_after:
            level, best_after = step.min_level, step.after
    return level


def line_order(line: Iterable[Waiting]) -> list[Waiting]:
    """Callers in the order they are served."""
    return sorted(line, key=lambda w: (-w.priority, w.vstart, w.member))


def idle_order(agents: Iterable[Agent]) -> list[Agent]:
    """Available agents, longest idle first."""
    ready = [a for a in agents if a.presence == Presence.AVAILABLE]
    return sorted(ready, key=lambda a: (a.idle_since, a.id))


def qualifies(agent: Agent, caller: Waiting, relax: Sequence[RelaxStep], now: float) -> bool:
    """True when `agent` may take `caller` at time `now`."""
    if caller.not_before > now:
        return False
    need = required_level(relax, caller.waited(now))
    return any(agent.level(skill) >= need for skill in caller.skills)


def match(line: Iterable[Waiting], agents: Iterable[Agent], relax: Sequence[RelaxStep],
          now: float) -> list[tuple[Waiting, Agent]]:
    """Pair callers with agents: each caller in line order takes the longest-idle qualifying
    agent still free. A caller nobody qualifies for is passed over (keeping their place) so the
    callers behind them can be served by agents the head cannot use."""
    free = idle_order(agents)
    pairs: list[tuple[Waiting, Agent]] = []
    for caller in line_order(line):
        if not free:
            break
        for agent in free:
            if qualifies(agent, caller, relax, now):
                pairs.append((caller, agent))
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
    if rule is None or caller.member.startswith("cb:"):
        return False
    if rule.action == "widen" and set(rule.skills) <= set(caller.skills):
        return False  # already widened
    return caller.waited(now) >= rule.after
