"""What a queue looks like right now: `QueueSnapshot`, read for the wallboard, the metrics and
the hold-time estimator (`ivr/domain/holdtime.py`), which needs exactly these inputs.

The counters are written by the scripts as things happen (connect.lua: answered and the wait;
leave.lua: abandoned/left/overflowed and the wait; finish.lua: handled and the handle time),
so a snapshot is a handful of O(log n) reads whatever the queue length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import redis

from ivr.domain import holdtime
from ivr.domain.queueing import Agent, Presence, QueueConfig
from ivr.store import keys
from ivr.store.scripts import text

BUSY = (Presence.RINGING, Presence.ON_CALL, Presence.WRAP_UP)


@dataclass(frozen=True)
class QueueSnapshot:
    """Times in seconds. `position` is the asking caller's (None when not asked or not
    waiting); `agents_by_state` counts agents with the queue's skill."""

    queue: str
    position: int | None
    queue_len: int
    longest_wait: float  # head-of-line wait: the longest anyone now waiting has waited
    agents_staffed: int  # not offline
    agents_busy: int  # ringing, on a call or in wrap-up
    agents_idle: int  # available
    agents_by_state: dict[str, int]
    recent_waits: list[float]  # answered waits, newest first
    recent_handle_times: list[float]  # newest first
    answered: int
    answered_wait_total: float
    abandoned: int
    abandoned_wait_total: float  # total time abandoning callers waited (for abandon rates)
    callbacks_pending: int
    counters: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["waiting"] = self.queue_len  # the names the metrics collector reads
        return data


def read_snapshot(conn: redis.Redis, cfg: QueueConfig, agents: Iterable[Agent], now: float,
                  position: int | None, recent: int) -> QueueSnapshot:
    pipe = conn.pipeline(transaction=False)
    pipe.zcard(keys.queue_waiting(cfg.name))
    pipe.zcard(keys.queue_parked(cfg.name))  # still in line, only set aside (queue_line.py)
    pipe.zrange(keys.queue_joined(cfg.name), 0, 0, withscores=True)
    pipe.lrange(keys.queue_recent_waits(cfg.name), 0, recent - 1)
    pipe.lrange(keys.queue_recent_handles(cfg.name), 0, recent - 1)
    pipe.hgetall(keys.queue_stats(cfg.name))
    pipe.hlen(keys.callbacks_by_number(cfg.name))
    routable, parked, head, waits, handles, raw_stats, callbacks = pipe.execute()
    size = int(routable) + int(parked)
    stats = {text(k): int(v) for k, v in raw_stats.items()}
    longest = max(0.0, now - head[0][1] / 1000.0) if head else 0.0
    by_state = {p.value: 0 for p in Presence}
    for agent in agents:
        if agent.level(cfg.skill) > 0:
            by_state[agent.presence.value] += 1
    return QueueSnapshot(
        queue=cfg.name,
        position=position,
        queue_len=int(size),
        longest_wait=longest,
        agents_staffed=sum(n for s, n in by_state.items() if s != Presence.OFFLINE),
        agents_busy=sum(by_state[p.value] for p in BUSY),
        agents_idle=by_state[Presence.AVAILABLE.value],
        agents_by_state=by_state,
        recent_waits=[int(w) / 1000.0 for w in waits],
        recent_handle_times=[int(h) / 1000.0 for h in handles],
        answered=stats.get("answered", 0),
        answered_wait_total=stats.get("answered_wait_ms", 0) / 1000.0,
        abandoned=stats.get("abandoned", 0),
        abandoned_wait_total=stats.get("abandoned_wait_ms", 0) / 1000.0,
        callbacks_pending=int(callbacks),
        counters=stats,
    )


def estimate_wait(snap: QueueSnapshot, now: float, aht_hint: float = 180.0) -> tuple[float, float]:
    """(expected wait if answered, uncertainty) in seconds from `ivr/domain/holdtime.py`, for
    the caller at `snap.position` (or one joining now when position is None).

    The estimator learns `HoldStats` from events; until the store keeps a `HoldStats` per queue
    (not done yet), it is rebuilt here by replaying the recent handle times, answered waits
    and the abandon totals recorded by the scripts, which is the same information, only less
    history (the last `recent` samples)."""
    stats = holdtime.new_stats(aht_hint)
    t = now - len(snap.recent_handle_times) - len(snap.recent_waits)
    for handle in reversed(snap.recent_handle_times):
        t += 1
        stats = holdtime.record_call_ended(stats, handle, t)
    for wait in reversed(snap.recent_waits):
        t += 1
        stats = holdtime.record_answered(stats, wait, t)
    if snap.abandoned:
        mean = snap.abandoned_wait_total / snap.abandoned
        for _ in range(min(snap.abandoned, 100)):
            stats = holdtime.record_abandoned(stats, mean, now)
    ahead = (snap.position - 1) if snap.position else snap.queue_len
    state = holdtime.QueueState(queue_len=ahead, agents=snap.agents_staffed,
                                busy=snap.agents_busy, hol_wait=snap.longest_wait or None)
    est = holdtime.estimate_wait_range(state, stats, now)
    return est.seconds, est.uncertainty
