"""Forking a process that uses SQLite: never while one of its threads is inside a transaction.

SQLite keeps the locks a process holds on a database file in process memory, shared by all its
connections. A child forked while another thread of the parent holds the write lock inherits
that record but not the lock, and the lock never looks free to it: every transaction the child
begins waits for its busy timeout and fails with "database is locked". `ivr worker` forks an
RQ work horse for every job while its outcome-writer thread commits events back to back, so
35 of 43 follow-up SMS jobs of a 30-minute `ivr bench soak` failed that way, 30 s after they
started (reproduced with two threads and a fork in tests/worker/test_sqlite_fork.py).

`FORK_GUARD` counts this process's SQLite transactions in progress (ivr/store/db.py reports
each BEGIN; `GuardedConnection`, the engines' sqlite3 connection class, each COMMIT and
ROLLBACK once it is done); `forking()` holds new ones back, waits until none is in
progress (at most FORK_WAIT seconds, then forks anyway and says so) and lets them go after
the fork. The child starts with a fresh guard. Must not import the rest of the product.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
FORK_WAIT = 10.0  # seconds a fork waits for transactions in progress to end


class ForkGuard:
    def __init__(self) -> None:
        self._reset()
        self._hooked = False

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._open = 0
        self._forking = False

    def _hook(self) -> None:
        if not self._hooked:  # once, on first use: nothing is registered at import
            self._hooked = True
            os.register_at_fork(after_in_child=self._reset)

    def begin(self) -> None:
        """A transaction starts (waits while a fork is being taken)."""
        self._hook()
        with self._cond:
            self._cond.wait_for(lambda: not self._forking, FORK_WAIT)
            self._open += 1

    def end(self) -> None:
        """A transaction ended (committed or rolled back)."""
        with self._cond:
            self._open = max(0, self._open - 1)
            self._cond.notify_all()

    @contextmanager
    def forking(self) -> Iterator[None]:
        """Around os.fork() in the parent: no SQLite transaction of this process is in
        progress inside it."""
        self._hook()
        with self._cond:
            self._forking = True
            if not self._cond.wait_for(lambda: self._open == 0, FORK_WAIT):
                log.warning("forking with %d SQLite transaction(s) in progress after %.0f s: "
                            "the child may find the database locked", self._open, FORK_WAIT)
        try:
            yield
        finally:
            with self._cond:
                self._forking = False
                self._cond.notify_all()


FORK_GUARD = ForkGuard()


class GuardedConnection(sqlite3.Connection):
    """sqlite3's connection, telling FORK_GUARD when a transaction has ended: after COMMIT or
    ROLLBACK, so a fork never falls between the report and the end."""

    def commit(self) -> None:
        was = self.in_transaction
        try:
            super().commit()
        finally:
            if was:
                FORK_GUARD.end()

    def rollback(self) -> None:
        was = self.in_transaction
        try:
            super().rollback()
        finally:
            if was:
                FORK_GUARD.end()

    def close(self) -> None:
        was = self.in_transaction
        try:
            super().close()
        finally:
            if was:
                FORK_GUARD.end()
