"""The flow's `queue` node meets the Redis queue engine: join, leave, hang-up, and what a call
remembers about its time in line.

Owns the per-call queue facts kept on the call's Redis hash (`queue`, `queue_seq`: the step
whose Enqueue action resumes the flow, the offers the flow made, the language, the estimate
first announced) and the outcome events `queue_joined`, `queue_left` and `call_ended` with
their payloads. Used by the call service (join), the queue webhooks and the status callback.
Must not import Flask: the simulator and the workers use it too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.domain.flow.actions import Enqueue
from ivr.domain.holdtime import WaitEstimate
from ivr.store import keys
from ivr.store.call_state import CallStateStore
from ivr.store.events import entry_fields, once_id
from ivr.store.hold_forecast import DEFAULT_TTL, HoldForecasts
from ivr.store.hold_stats import HoldStatsStore
from ivr.store.queue_stats import QueueSnapshot
from ivr.store.redis_queue import QueueService

log = logging.getLogger(__name__)

PublishEvent = Callable[[str, str, Mapping[str, Any], datetime], None]

# Twilio's QueueResult -> the flow's queue_result when the caller left through <Leave> for
# one of our own menus (the call hash's `queue_exit` says which).
EXITS = ("callback", "voicemail")


@dataclass(frozen=True)
class QueueEntry:
    """What the call hash says about the caller's current (or last) queue."""

    queue: str
    seq: int | None
    language: str
    offer_callback: bool
    offer_voicemail: bool
    exit: str
    agent: str


@dataclass
class QueueHandOff:
    """`CallService`'s QueueHandOff port on `QueueService` (ivr/store/redis_queue.py)."""

    service: QueueService
    store: CallStateStore
    publish: PublishEvent
    forecast_ttl: float = DEFAULT_TTL  # IVR_FORECAST_TTL (ivr/store/hold_forecast.py)
    stats: HoldStatsStore = field(init=False)
    forecasts: HoldForecasts = field(init=False)

    def __post_init__(self) -> None:
        self.stats = HoldStatsStore(self.service.conn)
        self.forecasts = HoldForecasts(self.service, self.stats, self.forecast_ttl)

    def join(self, call_sid: str, enqueue: Enqueue, caller: Mapping[str, str],
             now: datetime, *, seq: int, language: str, check_hours: bool = True) -> str | None:
        at = now.timestamp()
        cfg = self.service.config(enqueue.queue)
        if check_hours and not self.service.is_open(cfg.hours, at):
            return "closed"
        result = self.service.join(call_sid, enqueue.queue, at, skill=enqueue.skill,
                                   priority=enqueue.priority, caller=caller)
        if not result.accepted:
            return "queue-full" if result.reason == "queue-full" else "error"
        told, (low, high) = self.forecast(enqueue.queue, call_sid, at)
        announced = told.seconds
        self.store.mark(call_sid, queue=enqueue.queue, queue_seq=str(seq), language=language,
                        offer_callback="1" if enqueue.offer_callback else "",
                        offer_voicemail="1" if enqueue.offer_voicemail else "",
                        queue_exit="", announced_at="", agent="",
                        announced_wait=f"{announced:.1f}" if math.isfinite(announced) else "",
                        announced_spread=f"{told.spread:.4f}",
                        announced_range=f"{low:.1f},{high:.1f}")
        if result.created:
            data: dict[str, Any] = {"queue": enqueue.queue, "position": result.position}
            if enqueue.skill:
                data["skill"] = enqueue.skill
            if math.isfinite(announced):
                data["announced_wait"] = round(announced, 1)
            self.publish("queue_joined", call_sid, data, now)
        return None

    def estimate(self, queue: str, member: str | None, at: float) -> tuple[float, float]:
        """(seconds, relative uncertainty) for `member` (or a caller joining now), from the
        live line and staffing and what the estimator has learned about this queue."""
        return self.estimate_from(self.service.snapshot(queue, at, member), at)

    def forecast(self, queue: str, member: str | None, at: float,
                 position: int | None = None) -> tuple[WaitEstimate, tuple[float, float]]:
        """The estimate for `member` and the range they are told, calibrated on this queue's
        outcomes (ivr/domain/wait_range.py). `position`: the member's place when the caller
        has just read it (the hold loop), else it is read here. The queue's side comes from
        the process's shared forecasts, read at most once per IVR_FORECAST_TTL."""
        if position is None and member:
            position = self.service.position(member)
        return self.forecasts.forecast(queue, position, at)

    def told(self, member: str) -> WaitEstimate | None:
        """The forecast a caller was given when they joined (None for older entries)."""
        marks = self.store.fields(member, "announced_wait", "announced_spread")
        seconds, spread = marks["announced_wait"], marks["announced_spread"]
        if not seconds or not spread:
            return None
        return WaitEstimate(float(seconds), 0.0, float(spread))

    def estimate_from(self, snap: QueueSnapshot, at: float) -> tuple[float, float]:
        """The same estimate from a snapshot already read (the wallboard reads one anyway)."""
        ahead = (snap.position - 1) if snap.position else snap.queue_len
        est = self.stats.estimate(snap.queue, ahead, snap.agents_staffed, snap.agents_busy, at)
        return est.seconds, est.uncertainty

    def record_estimate_error(self, queue: str, error: float, now: datetime) -> None:
        """How far the first announcement was from the wait the caller actually had, summed
        per queue and day for the wallboard (kept 3 days)."""
        key = keys.queue_estimate_accuracy(queue, now.strftime("%Y-%m-%d"))
        pipe = self.service.conn.pipeline(transaction=True)
        pipe.hincrby(key, "n", 1)
        pipe.hincrbyfloat(key, "sum", error)
        pipe.hincrbyfloat(key, "abs", abs(error))
        pipe.expire(key, 3 * 86400)
        pipe.execute()

    def estimate_accuracy(self, queue: str, now: datetime) -> dict[str, float] | None:
        raw = self.service.conn.hgetall(
            keys.queue_estimate_accuracy(queue, now.strftime("%Y-%m-%d")))
        n = int(raw.get(b"n", 0) or 0)
        if not n:
            return None
        return {"answered": n, "mean_error": round(float(raw[b"abs"]) / n, 1),
                "bias": round(float(raw[b"sum"]) / n, 1)}

    def visit(self, call_sid: str) -> QueueEntry | None:
        return _visit(self.store.fields(call_sid, *VISIT_FIELDS))

    def visit_with(self, call_sid: str, name: str) -> tuple[QueueEntry | None, str]:
        """The visit and one more mark of the call, from one read (the hold loop asks for
        `announced_at` on every answer: a round trip saved, issue 12)."""
        raw = self.store.fields(call_sid, *VISIT_FIELDS, name)
        return _visit(raw), raw[name]

    def left(self, call_sid: str, twilio_result: str, now: datetime) -> str | None:
        """The Enqueue action arrived. Returns the flow's queue_result, or None when the flow
        must not move on (the call was redirected out of line by us: to an agent, which the
        bridge endpoints report, or to the overflow route)."""
        if twilio_result in ("redirected", "bridging-in-process", "redirected-from-bridged"):
            return None
        visit = self.visit(call_sid)
        queue = visit.queue if visit else ""
        exit_ = visit.exit if visit and visit.exit in EXITS else ""
        counted = "leave" if twilio_result == "leave" else twilio_result
        left = self.service.leave(call_sid, counted, now.timestamp()) if queue else None
        result = exit_ or ("hangup" if twilio_result in ("hangup", "system-error") else
                           twilio_result)
        if queue and left is not None and left.state:
            self.publish("queue_left", call_sid,
                         {"queue": queue, "result": result, "wait": round(left.wait, 1)}, now)
            if result == "hangup":
                self.stats.abandoned(queue, left.wait, now.timestamp())
        return result

    def call_ended(self, call_sid: str, status: str, duration: float | None,
                   now: datetime) -> None:
        """The status callback: a caller still in line abandoned; a connected call ended.
        A call that never queued is recorded in the same round trip that finds it out."""
        at = now.timestamp()
        data: dict[str, Any] = {"status": status}
        if duration is not None:
            data["duration"] = duration
        entry = entry_fields("call_ended", call_sid, data, at, once_id("call_ended", call_sid))
        visit = _visit(self.store.ended_unless_queued(call_sid, entry, VISIT_FIELDS))
        if visit is None:
            return
        left = self.service.leave(call_sid, "hangup", at)
        if left.state in ("waiting", "reserved"):
            self.publish("queue_left", call_sid, {"queue": visit.queue, "result": "hangup",
                                                  "wait": round(left.wait, 1)}, now)
            self.stats.abandoned(visit.queue, left.wait, at)
        elif left.state == "connected":
            self.service.call_ended(call_sid, at)
        self.publish("call_ended", call_sid, data, now)


VISIT_FIELDS = ("queue", "queue_seq", "language", "offer_callback", "offer_voicemail",
                "queue_exit", "agent")


def _visit(raw: Mapping[str, str] | None) -> QueueEntry | None:
    """The call hash's queue facts (VISIT_FIELDS) as a QueueEntry; None if never queued."""
    if not raw or not raw["queue"]:
        return None
    seq = raw["queue_seq"]
    return QueueEntry(queue=raw["queue"], seq=int(seq) if seq.isdigit() else None,  # -1: none
                      language=raw["language"] or "en-US",
                      offer_callback=bool(raw["offer_callback"]),
                      offer_voicemail=bool(raw["offer_voicemail"]),
                      exit=raw["queue_exit"], agent=raw["agent"])
