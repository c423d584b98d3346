"""The SQL source of the flow's `lookup` node: one query against a business's database, bounded
in time and in connections.

Owns the source's engine and its pool. A lookup runs inside a webhook, holding a web thread
and often the call's lock, so it must end by its deadline whatever the database does:

- a slot of the source's pool (`pool_size`, default IVR_LOOKUP_POOL_SIZE) is waited for only
  until the deadline; the engine's pool has exactly that many connections and no overflow, so
  a slow database never gets more connections from us than the setting allows;
- PostgreSQL: `statement_timeout` set for the lookup's transaction only (`set_config(...,
  true)`, i.e. `SET LOCAL`), to the time left; `connect_timeout` on new connections (libpq
  and psycopg round it up to whole seconds, at least 2, so a server that does not answer at
  all can take that long the first time);
- SQLite: a busy timeout of the time left (a writer's lock is waited for only that long) and
  a progress handler that interrupts a long statement once the deadline passes.

Other databases get the pool bound and no statement timeout (logged once). A timed-out
statement raises; `ivr.flows.lookups.LookupSources.run` turns that into a failed lookup, so the
flow takes its `on_failure` path. Connections go back to the pool on every path (the
`with engine.connect()` block rolls back and returns them). Must not import Flask or Redis.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 4  # IVR_LOOKUP_POOL_SIZE: connections per SQL source
PROGRESS_EVERY = 1000  # SQLite VM steps between deadline checks (microseconds of work)


class LookupTimeout(Exception):
    """The lookup's deadline passed before a connection of its pool was free."""


@dataclass
class SqlSource:
    url: str
    query: str
    pool_size: int = DEFAULT_POOL_SIZE
    timeout: float | None = None  # the source's own ceiling (lookups.yaml); else the node's
    _engine: Any = None
    _slots: threading.BoundedSemaphore = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.pool_size < 1:
            raise ValueError(f"pool_size {self.pool_size} must be at least 1")
        self._slots = threading.BoundedSemaphore(self.pool_size)

    def fetch(self, params: Mapping[str, str], timeout: float) -> dict[str, Any]:
        """A lookup result (`ivr.flows.lookups`' shape) with the first row as the record (None when
        there is none), or an exception once the deadline (`timeout`, capped by the source's
        own) has passed."""
        from sqlalchemy import text

        limit = min(timeout, self.timeout) if self.timeout else timeout
        deadline = time.monotonic() + limit
        engine = self.engine(limit)
        if not self._slots.acquire(timeout=limit):
            raise LookupTimeout(f"all {self.pool_size} connections busy for {limit:g} s")
        try:
            with engine.connect() as conn:
                undo = _limit_statement(conn, deadline)
                try:
                    row = conn.execute(text(self.query), dict(params)).mappings().first()
                finally:
                    undo()
        finally:
            self._slots.release()
        return {"ok": True, "record": dict(row) if row is not None else None, "error": None}

    def engine(self, timeout: float) -> Any:
        """The engine, made on first use (an unreachable database must not stop start-up)."""
        with self._lock:
            if self._engine is None:
                self._engine = _make_engine(self.url, self.pool_size, timeout)
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def _make_engine(url: str, pool_size: int, timeout: float) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import QueuePool

    backend = make_url(url).get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = max(2, math.ceil(timeout))
    elif backend == "sqlite":
        connect_args["check_same_thread"] = False  # the pool hands connections across threads
    else:
        log.warning("lookup database %s: no statement timeout for %s; only the pool's wait "
                    "is bounded", make_url(url).render_as_string(), backend)
    # The semaphore in SqlSource.fetch never lets more than pool_size threads check out, so
    # the pool's own wait (pool_timeout) is only a safety net.
    return create_engine(url, poolclass=QueuePool, pool_size=pool_size, max_overflow=0,
                         pool_timeout=max(timeout, 1.0), pool_pre_ping=True,
                         connect_args=connect_args)


def _limit_statement(conn: Any, deadline: float) -> Callable[[], None]:
    """Bound the next statement on `conn` by `deadline`; returns what undoes it."""
    left_ms = max(1, int((deadline - time.monotonic()) * 1000))
    backend = conn.dialect.name
    if backend == "postgresql":
        from sqlalchemy import text

        # Local to this transaction, which the `with` block rolls back: nothing to undo.
        conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                     {"ms": str(left_ms)})
        return lambda: None
    if backend == "sqlite":
        raw = conn.connection.dbapi_connection
        raw.execute(f"PRAGMA busy_timeout = {left_ms}")
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), PROGRESS_EVERY)
        return lambda: raw.set_progress_handler(None, PROGRESS_EVERY)
    return lambda: None
