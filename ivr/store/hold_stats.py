"""The hold-time estimator's memory per queue, in Redis: what it has learned about talk times
and patience (`ivr.domain.holdtime.HoldStats`), updated as calls are answered, abandoned and
finished, and read for every announcement.

Why persisted: the estimator scored against the public traces (`ivr bench ewt`) learns online
from every event of a queue's history; rebuilding its statistics from the last hundred samples
at each announcement would throw away what makes it accurate (patience, talk-time shape) and
forget everything on restart.

Why an event list and not read-modify-write: every answered, abandoned and finished call
changes the same small value, and callers hang up together (a storm, the end of `ivr bench
abuse`'s run with 200 calls). Under WATCH the writers raced; even with 30 retries and a growing
random wait a busy queue could drop samples and every lost race cost a webhook round trips and
sleeps (issue 12). So a writer only appends its event (RPUSH: one command, nothing to lose,
nothing to retry), and the list is applied in its order, the order Redis received the events,
which is the order the WATCH transactions committed in: the same statistics. A reader reads
the folded statistics and the pending events in one transaction and applies the pending ones
itself. Once FOLD_AT events are pending, the writer that saw it folds them (scripts/
hold_fold.lua writes the result only if nobody folded in between, and trims what it folded):
the list stays short and no one waits for anyone. Must not import Flask.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import redis

from ivr.domain import holdtime, wait_range
from ivr.domain.holdtime import HoldStats, WaitEstimate
from ivr.store import keys
from ivr.store.scripts import SCRIPT_DIR, text

log = logging.getLogger(__name__)

DEFAULT_TALK_TIME = 180.0  # seconds: the prior until real calls complete
FOLD_AT = 16  # pending events that make the writer fold them into the statistics


def apply_event(stats: HoldStats, event: list[Any]) -> HoldStats:
    """One stored event applied with the domain's own update (what `update` used to do)."""
    kind, *args = event
    if kind == "answered":
        return holdtime.record_answered(stats, args[0], args[1])
    if kind == "abandoned":
        return holdtime.record_abandoned(stats, args[0], args[1])
    if kind == "ended":
        return holdtime.record_call_ended(stats, args[0], args[1])
    if kind == "staffing":
        return holdtime.record_staffing(stats, args[0], args[1])
    if kind == "range":
        return wait_range.record_range_outcome(
            stats, WaitEstimate(args[0], 0.0, args[1]), args[2])
    # A kind this version does not know (written by a newer one during a rolling deploy):
    # skipped, as from_dict skips unknown fields, rather than failing every announcement.
    log.warning("hold-statistics event %r not understood; skipped", kind)
    return stats


class HoldStatsStore:
    def __init__(self, conn: redis.Redis, talk_time: float = DEFAULT_TALK_TIME) -> None:
        self.conn = conn
        self.talk_time = talk_time
        self.fold_script = conn.register_script((SCRIPT_DIR / "hold_fold.lua").read_text())

    def get(self, queue: str) -> tuple[HoldStats, int | None]:
        """The queue's statistics with every event recorded so far (the prior when none
        yet), and the staffing last seen."""
        stats, agents, _, _ = self._read(queue)
        return stats, agents

    def _read(self, queue: str) -> tuple[HoldStats, int | None, int, int]:
        """(statistics with pending events applied, staffing seen, `folded`, pending count),
        from one transaction: a fold between two separate reads would lose or repeat events."""
        pipe = self.conn.pipeline(transaction=True)
        pipe.hmget(keys.queue_hold_stats(queue), ["stats", "agents", "folded"])
        pipe.lrange(keys.queue_hold_events(queue), 0, -1)
        (raw, agents, folded), pending = pipe.execute()
        stats = self._apply(self._decode(raw), pending)
        return (stats, int(agents) if agents is not None else None, int(folded or 0),
                len(pending))

    def _decode(self, raw: bytes | str | None) -> HoldStats:
        if raw is None:
            return holdtime.new_stats(self.talk_time)
        return HoldStats.from_dict(json.loads(text(raw)))

    @staticmethod
    def _apply(stats: HoldStats, pending: Iterable[bytes | str]) -> HoldStats:
        for raw in pending:
            stats = apply_event(stats, json.loads(text(raw)))
        return stats

    def _record(self, queue: str, event: list[Any]) -> None:
        """Append the event; the writer that makes FOLD_AT pending folds them."""
        if self.conn.rpush(keys.queue_hold_events(queue), json.dumps(event)) >= FOLD_AT:
            self.fold(queue)

    def fold(self, queue: str) -> bool:
        """Fold the pending events into the stored statistics; False when another process
        folded first (then there is nothing left to do)."""
        stats, _, folded, pending = self._read(queue)
        if not pending:
            return False
        return self._write(queue, folded, pending, stats)

    def _write(self, queue: str, folded: int, pending: int, stats: HoldStats) -> bool:
        """hold_fold.lua: store `stats` as the fold of the first `pending` events, unless
        another fold landed since `folded` was read."""
        return bool(self.fold_script(
            keys=[keys.queue_hold_stats(queue), keys.queue_hold_events(queue)],
            args=[folded, pending, json.dumps(stats.as_dict())]))

    def update(self, queue: str, change: Callable[[HoldStats], HoldStats]) -> HoldStats:
        """Replace the statistics with `change` of them (seeding a queue, tests): folds the
        pending events with it. Not for the call path, which only appends events; tries
        again only if a fold landed between the read and the write."""
        while True:
            stats, _, folded, pending = self._read(queue)
            new = change(stats)
            if self._write(queue, folded, pending, new):
                return new

    def answered(self, queue: str, wait: float, now: float) -> None:
        self._record(queue, ["answered", wait, now])

    def abandoned(self, queue: str, wait: float, now: float) -> None:
        self._record(queue, ["abandoned", wait, now])

    def call_ended(self, queue: str, handle: float, now: float) -> None:
        if handle > 0:
            self._record(queue, ["ended", handle, now])

    def staffing(self, queue: str, agents: int, now: float) -> HoldStats:
        """Note the staffed-agent count; a change is recorded (the estimate is announced as
        a range while the queue settles). Returns the current statistics."""
        stats, seen = self.get(queue)
        if seen == agents:
            return stats
        if seen is not None:
            self._record(queue, ["staffing", agents, now])
            stats = holdtime.record_staffing(stats, agents, now)
        self.conn.hset(keys.queue_hold_stats(queue), "agents", agents)
        return stats

    def estimate(self, queue: str, ahead: int, agents: int, busy: int,
                 now: float) -> holdtime.WaitEstimate:
        return self.forecast(queue, ahead, agents, busy, now)[0]

    def forecast(self, queue: str, ahead: int, agents: int, busy: int,
                 now: float) -> tuple[WaitEstimate, tuple[float, float]]:
        """The estimate and the range a caller is told (ivr/domain/wait_range.py)."""
        stats = self.staffing(queue, agents, now)
        state = holdtime.QueueState(queue_len=ahead, agents=agents, busy=busy)
        estimate = holdtime.estimate_wait_range(state, stats, now)
        return estimate, wait_range.announced_range(estimate, stats)

    def range_outcome(self, queue: str, told: WaitEstimate, wait: float) -> None:
        """A caller told `told` when they joined was answered after `wait` seconds: the
        queue's ranges learn where real waits fall."""
        self._record(queue, ["range", told.seconds, told.spread, wait])
