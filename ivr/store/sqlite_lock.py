"""Sharing SQLite's one write lock between processes.

SQLite queues nobody for its write lock: a process that wants it while it is held sleeps in
its busy handler and tries again, at most every 100 ms once it has waited a while. A process
that commits and begins again at once (the outcome writer when it is behind: every
transaction here is `BEGIN IMMEDIATE`, ivr/store/db.py) leaves the lock free for microseconds
between its transactions, so the others seldom find it free and fail with "database is
locked" at their busy timeout: 35 of 43 follow-up SMS jobs of a 30-minute `ivr bench soak`
did, 30 s after they started.

`WriteLockShare` makes an engine leave the lock free for WRITE_LOCK_GAP (longer than the
busy handler's longest sleep) after each WRITE_LOCK_HOLD seconds of back-to-back
transactions: a waiting process gets in within about a second, and a busy writer gives up a
tenth of its time. An engine that pauses between transactions anyway never waits. Must not
import the rest of the product.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

WRITE_LOCK_HOLD = 1.0  # seconds of back-to-back transactions before a gap
WRITE_LOCK_GAP = 0.12  # seconds the lock is left free (SQLite's busy handler sleeps <= 0.1 s)


@dataclass
class WriteLockShare:
    """One per engine: `before_begin` runs before BEGIN, `after_end` at COMMIT or ROLLBACK.
    Threads of one engine share it (a sleeping thread holds no lock)."""

    hold: float = WRITE_LOCK_HOLD
    gap: float = WRITE_LOCK_GAP
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    since: float = 0.0  # when the current stretch of back-to-back transactions began
    last_end: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before_begin(self) -> None:
        with self._lock:
            now = self.clock()
            free_for = now - self.last_end
            if free_for >= self.gap:  # the lock was free long enough: a new stretch
                self.since = now
                return
            if now - self.since < self.hold:
                return
            wait = self.gap - free_for
            self.since = now + wait
        self.sleep(wait)

    def after_end(self) -> None:
        with self._lock:
            self.last_end = self.clock()
