"""What each held caller is told, from one read of their queue per second: `HoldForecasts`.

Every hold answer that announces the wait used to read the whole queue (line sizes, every
agent, the recent waits) and run the estimator for its caller, O(callers ahead) of pure Python:
at 50,000 callers on hold that was 70 % of a hold answer's CPU (issue 12). Here a process reads
a queue's snapshot and learned statistics at most once per `ttl` seconds (IVR_FORECAST_TTL,
default 1 s; 0 reads every time) and keeps one `WaitTable` (ivr/domain/wait_table.py) per
queue: every caller's estimate comes from that table, which is bit for bit the direct
estimate for the same inputs, and is kept across refreshes while staffing, busy agents and
statistics stay the same. What a caller is told can therefore lag the queue's staffing by up to
`ttl`; their own place is read fresh by the caller of `forecast`. A process holds one entry
per configured queue and each table at most as many places as the line is long.

Thread-safe: web threads share it. Must not import Flask.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ivr.domain import wait_range
from ivr.domain.holdtime import WaitEstimate
from ivr.domain.wait_table import WaitTable
from ivr.store.hold_stats import HoldStatsStore
from ivr.store.queue_stats import QueueSnapshot
from ivr.store.redis_queue import QueueService

DEFAULT_TTL = 1.0  # seconds a process reuses a queue's snapshot for the callers' estimates


@dataclass
class _Outlook:
    """One queue as last read, and the table of estimates for it."""

    snap: QueueSnapshot
    table: WaitTable
    read_at: float  # monotonic seconds


class HoldForecasts:
    def __init__(self, service: QueueService, stats: HoldStatsStore, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service, self.stats, self.ttl, self.clock = service, stats, ttl, clock
        self._outlooks: dict[str, _Outlook] = {}
        self._reading = {q: threading.Lock() for q in service.queues}  # one reader per queue
        self._growing = {q: threading.Lock() for q in service.queues}  # guards table growth

    def forecast(self, queue: str, position: int | None,
                 at: float) -> tuple[WaitEstimate, tuple[float, float]]:
        """The estimate for the caller at `position` (1-based; None: one joining now, behind
        everybody) and the range they are told, as `HoldStatsStore.forecast` gives it."""
        outlook = self._outlook(queue, at)
        ahead = (position - 1) if position else outlook.snap.queue_len
        with self._growing.setdefault(queue, threading.Lock()):  # the table grows in place
            estimate = outlook.table.estimate(ahead, at)
        return estimate, wait_range.announced_range(estimate, outlook.table.stats)

    def _outlook(self, queue: str, at: float) -> _Outlook:
        """The queue's outlook, read again when older than `ttl`; one thread reads, the
        others of this process wait for it rather than read too."""
        outlook = self._outlooks.get(queue)
        if outlook is not None and self.clock() - outlook.read_at < self.ttl:
            return outlook
        self.service.config(queue)  # NotFound for a queue queues.yaml does not list
        with self._reading.setdefault(queue, threading.Lock()):
            outlook = self._outlooks.get(queue)
            if outlook is not None and self.clock() - outlook.read_at < self.ttl:
                return outlook
            snap = self.service.snapshot(queue, at)
            stats = self.stats.staffing(snap.queue, snap.agents_staffed, at)
            table = outlook.table if outlook is not None else None
            if table is None or not table.matches(snap.agents_staffed, snap.agents_busy, stats):
                table = WaitTable(snap.agents_staffed, snap.agents_busy, stats)
            self._outlooks[queue] = fresh = _Outlook(snap, table, self.clock())
            return fresh
