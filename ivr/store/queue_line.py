"""The routable head of one queue's line, as a routing pass reads it (issue 12 item 10).

A routing pass only looks at the first `head` entries of the `waiting` sorted set. Entries
that may not be routed yet (a callback booked for a later time or waiting for a retry, a
callback while the queue is closed: `ivr.domain.routing.parked_until`) keep their early place,
so before this module a few dozen of them at the head stalled every caller behind them.
Now a pass sets such entries aside in the `parked` sorted set (keyed by when to look at them
again; park.lua) and reads on, and puts parked entries back with their ORIGINAL place score
when their time comes (promote.lua). Each entry moves once per period of not being routable,
so the cost per pass stays a couple of round trips whatever stands at the head: the due
check rides in the same pipeline as the head read.

Used by `QueueService` (redis_queue.py); must not import Flask, RQ or Twilio.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis

from ivr.domain import routing
from ivr.domain.queueing import Agent, Waiting
from ivr.store import keys
from ivr.store.agents import agent_from_hash, to_ms
from ivr.store.scripts import QueueScripts, text

ENTRY_FIELDS = ["skills", "priority", "vstart", "joined_at", "not_before", "kind"]
# How far one pass reads past entries it parks: the window doubles from `head` up to this,
# for at most PARK_ROUNDS reads; what is left is parked by the next pass (each is parked once).
PARK_WINDOW_MAX = 1000
PARK_ROUNDS = 32
# Parked entries put back per promote.lua call (the pass repeats while there are more).
PROMOTE_BATCH = 500


def _waiting(member: str, raw: list[bytes | None]) -> Waiting | None:
    skills, prio, vstart, joined, not_before, _kind = (text(v) for v in raw)
    if not skills:
        return None  # the entry went between the two reads
    return Waiting(member, tuple(skills.split(",")), int(prio), int(vstart) / 1000,
                   int(joined) / 1000, int(not_before or 0) / 1000)


@dataclass(frozen=True)
class LineRead:
    """What one read of a queue's line found: the routable head in line order, the number of
    entries in line (parked included), and the available agents for `skills`, read in the
    same round trips (longest idle first per skill, up to the head's size)."""

    callers: list[Waiting]
    size: int
    agents: list[Agent] = field(default_factory=list)
    skills: frozenset[str] = frozenset()


class LineReader:
    """Reads one queue's routable head; parks and promotes on the way."""

    def __init__(self, conn: redis.Redis, scripts: QueueScripts,
                 is_open: Callable[[str, float], bool]) -> None:
        self.conn = conn
        self.scripts = scripts
        self.is_open = is_open  # (queue name, now) -> open for callbacks

    def head(self, queue: str, now: float, size: int,
             agent_skills: Iterable[str] = ()) -> LineRead:
        """Up to `size` routable entries and the available agents with `agent_skills`. Two
        round trips when nothing needs parking or promoting (a routing pass then needs only
        its reservations on top)."""
        callbacks_open = self.is_open(queue, now)
        skills = sorted(set(agent_skills))
        window, check_due = size, True
        read = LineRead([], 0)
        for _ in range(PARK_ROUNDS):
            members, ids, total, due = self._read(queue, window, now, skills, size,
                                                  check_due, callbacks_open)
            if due:
                self._promote(queue, due, callbacks_open)
                continue  # read again: the promoted may be ahead of what was read
            check_due = False
            line, agents, parked = self._split(queue, members, ids, now, callbacks_open)
            read = LineRead(line[:size], total, agents, frozenset(skills))
            if not parked or len(line) >= size or len(members) < window:
                break
            window = min(window * 2, PARK_WINDOW_MAX)
        return read

    def _read(self, queue: str, window: int, now: float, skills: list[str], size: int,
              check_due: bool, callbacks_open: bool
              ) -> tuple[list[str], list[str], int, list[str]]:
        """(members at the head, available agent ids, entries in line, parked ones due)."""
        waiting, parked = keys.queue_waiting(queue), keys.queue_parked(queue)
        pipe = self.conn.pipeline(transaction=False)
        pipe.zrange(waiting, 0, window - 1)
        pipe.zcard(waiting)
        pipe.zcard(parked)
        for skill in skills:
            pipe.zrange(keys.agents_available(skill), 0, size - 1)
        if check_due:
            pipe.zrangebyscore(parked, "-inf", to_ms(now), start=0, num=PROMOTE_BATCH)
            if callbacks_open:  # held until the queue opens: now it is open
                pipe.zrangebyscore(parked, "+inf", "+inf", start=0, num=PROMOTE_BATCH)
        raw, in_waiting, in_parked, *rest = pipe.execute()
        ids = dict.fromkeys(text(a) for batch in rest[:len(skills)] for a in batch)
        return ([text(m) for m in raw], list(ids), int(in_waiting) + int(in_parked),
                [text(m) for batch in rest[len(skills):] for m in batch])

    def _split(self, queue: str, members: list[str], agent_ids: list[str], now: float,
               callbacks_open: bool) -> tuple[list[Waiting], list[Agent], int]:
        """(routable entries, agents, how many were parked). The others are parked at once."""
        pipe = self.conn.pipeline(transaction=False)
        for m in members:
            pipe.hmget(keys.queue_entry(m), ENTRY_FIELDS)
        for agent_id in agent_ids:
            pipe.hgetall(keys.agent(agent_id))
        replies = pipe.execute()
        agents = [agent_from_hash(a, raw) for a, raw in
                  zip(agent_ids, replies[len(members):], strict=True) if raw]
        line: list[Waiting] = []
        later: list[str] = []
        for m, raw in zip(members, replies[:len(members)], strict=True):
            entry = _waiting(m, raw)
            if entry is None:
                continue
            until = routing.parked_until(entry, now, callbacks_open)
            if until is None:
                line.append(entry)
            else:
                later += [m, "inf" if until == math.inf else str(to_ms(until))]
        if later:
            self.scripts.park(keys=[keys.queue_waiting(queue), keys.queue_parked(queue)],
                              args=later)
        return line, agents, len(later) // 2

    def _promote(self, queue: str, due: list[str], callbacks_open: bool) -> None:
        self.scripts.promote(
            keys=[keys.queue_waiting(queue), keys.queue_parked(queue),
                  *[keys.queue_entry(m) for m in due]],
            args=["1" if callbacks_open else "0", *due])
