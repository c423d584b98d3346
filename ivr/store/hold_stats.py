"""The hold-time estimator's memory per queue, in Redis: what it has learned about talk times
and patience (`ivr.domain.holdtime.HoldStats`), updated as calls are answered, abandoned and
finished, and read for every announcement.

Why persisted: the estimator scored against the public traces (`ivr bench ewt`) learns online
from every event of a queue's history; rebuilding its statistics from the last hundred samples
at each announcement would throw away what makes it accurate (patience, talk-time shape) and
forget everything on restart. Updates are read-modify-write under WATCH (a few per call); a
lost race is retried after a short random wait that grows with each try, because contention
does come in bursts: callers hang up together (a storm, the end of `ivr bench abuse`'s run,
where five immediate retries gave up and sent abandoning callers to the fallback route). If a
queue is still too busy after RETRIES, the sample is dropped and logged: these statistics
tune an estimate, and must never fail the webhook of the call that reported them.
Must not import Flask.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable

import redis

from ivr.domain import holdtime, wait_range
from ivr.domain.holdtime import HoldStats, WaitEstimate
from ivr.store import keys
from ivr.store.scripts import text

log = logging.getLogger(__name__)

DEFAULT_TALK_TIME = 180.0  # seconds: the prior until real calls complete
RETRIES = 30
BACKOFF_S = 0.001  # mean wait before the first retry; doubles with each try, to 32x at most


class HoldStatsBusy(RuntimeError):
    """A queue's statistics kept changing under us for RETRIES tries."""


class HoldStatsStore:
    def __init__(self, conn: redis.Redis, talk_time: float = DEFAULT_TALK_TIME) -> None:
        self.conn = conn
        self.talk_time = talk_time

    def get(self, queue: str) -> tuple[HoldStats, int | None]:
        """The queue's statistics (the prior when none yet) and the staffing last seen."""
        raw, agents = self.conn.hmget(keys.queue_hold_stats(queue), ["stats", "agents"])
        return self._decode(raw), int(agents) if agents is not None else None

    def _decode(self, raw: bytes | str | None) -> HoldStats:
        if raw is None:
            return holdtime.new_stats(self.talk_time)
        return HoldStats.from_dict(json.loads(text(raw)))

    def update(self, queue: str, change: Callable[[HoldStats], HoldStats]) -> HoldStats:
        """Apply `change` atomically; raises HoldStatsBusy after RETRIES lost races."""
        key = keys.queue_hold_stats(queue)
        for attempt in range(RETRIES):
            with self.conn.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    new = change(self._decode(pipe.hget(key, "stats")))
                    pipe.multi()
                    pipe.hset(key, "stats", json.dumps(new.as_dict()))
                    pipe.execute()
                    return new
                except redis.WatchError:
                    time.sleep(random.uniform(0, 2 * BACKOFF_S * 2 ** min(attempt, 5)))
        raise HoldStatsBusy(f"hold statistics of queue {queue!r} kept changing; gave up")

    def _record(self, queue: str, what: str, change: Callable[[HoldStats], HoldStats]) -> None:
        try:
            self.update(queue, change)
        except HoldStatsBusy as exc:
            log.warning("%s not learned: %s", what, exc)

    def answered(self, queue: str, wait: float, now: float) -> None:
        self._record(queue, "an answered wait", lambda s: holdtime.record_answered(s, wait, now))

    def abandoned(self, queue: str, wait: float, now: float) -> None:
        self._record(queue, "an abandon", lambda s: holdtime.record_abandoned(s, wait, now))

    def call_ended(self, queue: str, handle: float, now: float) -> None:
        if handle > 0:
            self._record(queue, "a talk time",
                         lambda s: holdtime.record_call_ended(s, handle, now))

    def staffing(self, queue: str, agents: int, now: float) -> HoldStats:
        """Note the staffed-agent count; a change is recorded (the estimate is announced as
        a range while the queue settles). Returns the current statistics."""
        stats, seen = self.get(queue)
        if seen == agents:
            return stats
        if seen is not None:
            stats = self.update(queue, lambda s: holdtime.record_staffing(s, agents, now))
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
        self._record(queue, "a range outcome",
                     lambda s: wait_range.record_range_outcome(s, told, wait))
