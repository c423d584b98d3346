"""The outcome-event writer: Redis stream -> call records in SQL, each event exactly once.

`drain_events` applies what is waiting and returns (tests, `ivr db` tools, a burst job);
`run_event_writer` loops for the worker process. Events are applied in transactions of up to
EVENTS_PER_TRANSACTION (a failed one is applied again one event per transaction); inside, each
event (1) creates and locks the call's row, (2) inserts the event into `processed_events`
(primary key = event id; a conflict means "already applied": nothing else is written), (3)
re-folds the call from all its logged events with `ivr.domain.outcome.fold_call` and rewrites
the call row and its history (queue_worker/outcome_rows.py), then (4) runs the record hooks.
Only after the commit are the entries XACKed. So:
- a crash between commit and XACK redelivers the event, and the ledger turns it into a no-op;
- a database error rolls back and leaves the entry pending; it is claimed again (XAUTOCLAIM)
  once idle for `claim_idle_ms`, so an outage delays outcomes but loses none;
- re-folding (instead of incrementing) makes order irrelevant: a late or redelivered
  `queue_left` still yields the same wait and talk time as in-order delivery.
The row lock serialises writers on one call (PostgreSQL: SELECT ... FOR UPDATE; SQLite: its
single write lock, taken up front by BEGIN IMMEDIATE), so concurrent writers never fold from
a stale event list.

Record hooks ("after a record is written"): `hooks=` on `drain_events`/`run_event_writer` is a
sequence of `RecordHook(session, record)` called inside the transaction, after the call's
rows are rewritten, with the lock held: once per call with new events in the transaction,
with the record folded from all of them (a rule acts on a record's final state). They commit
or roll back with the record, so a hook's own writes are exactly-once too (a duplicate event
runs no hook). A hook that raises keeps the event pending (retried later) rather than
committing a record without its effect.
The worker's hooks are listed in `queue_worker/record_hooks.py` (follow-up tasks first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis as redis_lib
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ivr.store import events as ev
from ivr.store import redis_connect
from ivr.store.call_records import RecordHook, apply_event, log_event, write_call
from ivr.store.db import (
    SessionFactory,
    database_url,
    make_engine,
    make_session_factory,
    upgrade_database,
)
from ivr.store.embedded_redis import EmbeddedRedis
from queue_worker.record_hooks import record_hooks

log = logging.getLogger(__name__)
# Events applied in one transaction at most. One commit per event kept the writer minutes
# behind 200 concurrent calls on SQLite (each commit syncs the WAL); a batch holds SQLite's
# write lock longer, so it stays small: the web never writes SQL, and the follow-up jobs wait
# on the busy timeout (ivr/store/db.py).
EVENTS_PER_TRANSACTION = 50


@dataclass
class DrainResult:
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    unavailable: str | None = None  # the database error that stopped the drain, if any
    acked: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.written + self.duplicates + self.rejected


def drain_events(redis: redis_lib.Redis, session_factory: SessionFactory,
                 max_events: int | None = None, block_ms: int | None = None, *,
                 group: str = ev.GROUP, consumer: str | None = None,
                 claim_idle_ms: int = 30_000, batch: int = 100,
                 hooks: Sequence[RecordHook] = (),
                 per_transaction: int = EVENTS_PER_TRANSACTION) -> DrainResult:
    """Apply stale pending entries (idle >= claim_idle_ms), then new ones until none arrive
    within `block_ms` (None: do not wait) or `max_events` were taken, up to `batch` read at a
    time and `per_transaction` applied in one transaction. Stops early, leaving the rest
    pending, when the database is unreachable (`result.unavailable`)."""
    consumer = consumer or ev.default_consumer()
    ev.ensure_group(redis, group)
    result = DrainResult()
    limit = max_events if max_events is not None else float("inf")
    stale = ev.claim_stale(redis, group, consumer, claim_idle_ms, int(min(limit, 10_000)))
    _apply_batch(redis, session_factory, group, stale, result, hooks, per_transaction)
    while result.unavailable is None and _taken(result) < limit:
        count = int(min(batch, limit - _taken(result)))
        fresh = ev.read_new(redis, group, consumer, count, block_ms)
        if not fresh:
            break
        _apply_batch(redis, session_factory, group, fresh, result, hooks, per_transaction)
    return result


def _taken(result: DrainResult) -> int:
    return result.handled + result.failed


def _apply_batch(redis: redis_lib.Redis, session_factory: SessionFactory, group: str,
                 events: list[ev.StreamEvent], result: DrainResult,
                 hooks: Sequence[RecordHook] = (),
                 per_transaction: int = EVENTS_PER_TRANSACTION) -> None:
    """Apply `events` in transactions of up to `per_transaction`, then XACK those committed.
    A transaction that fails is applied again one event per transaction, so a bad event keeps
    only itself pending, as when every event had its own."""
    done: list[str] = []
    try:
        for start in range(0, len(events), max(1, per_transaction)):
            if result.unavailable is not None:
                break
            chunk = events[start:start + max(1, per_transaction)]
            if len(chunk) > 1 and _apply_together(session_factory, chunk, result, done, hooks):
                continue
            for event in chunk:
                if result.unavailable is not None:
                    break
                _apply_one(session_factory, event, result, done, hooks)
    finally:
        ev.ack(redis, group, done)
        result.acked.extend(done)


def _apply_together(session_factory: SessionFactory, chunk: list[ev.StreamEvent],
                    result: DrainResult, done: list[str],
                    hooks: Sequence[RecordHook] = ()) -> bool:
    """Apply `chunk` in one transaction: one commit (on SQLite one WAL sync) for many events,
    where one per event fell minutes behind 200 concurrent calls (`ivr bench abuse`). Every
    event is locked and entered in the ledger as alone; then each call with new events is
    re-folded once and its rows rewritten, and the hooks see that record (the same rows as
    one event at a time, whose last fold is this one; hooks act on final states). True when
    handled: committed, or stopped because the database is unavailable (nothing written, the
    first event counted failed, as alone); False, with nothing written, when something
    failed: the caller applies the chunk one event at a time."""
    try:
        with session_factory() as session, session.begin():
            outcomes = [log_event(session, event) for event in chunk]
            for call_sid in dict.fromkeys(e.call_sid for e, o in zip(chunk, outcomes, strict=True)
                                          if o == "written" and e.call_sid):
                write_call(session, call_sid, hooks)
    except (DBAPIError, PoolTimeout) as exc:
        if not _is_unavailable(exc):
            return False
        result.failed += 1
        result.unavailable = str(getattr(exc, "orig", None) or exc).strip()[:500]
        log.warning("outcome events %s.. (%d) kept pending: database unavailable: %s",
                    chunk[0].event_id, len(chunk), result.unavailable)
        return True
    except (SQLAlchemyError, ValueError, KeyError, TypeError):
        log.info("outcome events %s.. (%d): one failed, applying them one by one",
                 chunk[0].event_id, len(chunk))
        return False
    for event, outcome in zip(chunk, outcomes, strict=True):
        _count(result, outcome)
        done.append(event.stream_id)
    return True


def _apply_one(session_factory: SessionFactory, event: ev.StreamEvent, result: DrainResult,
               done: list[str], hooks: Sequence[RecordHook] = ()) -> None:
    try:
        with session_factory() as session, session.begin():
            outcome = apply_event(session, event, hooks)
    except (DBAPIError, PoolTimeout) as exc:
        result.failed += 1
        if _is_unavailable(exc):
            result.unavailable = str(getattr(exc, "orig", None) or exc).strip()[:500]
            log.warning("outcome event %s (call %s) kept pending: database unavailable: %s",
                        event.event_id, event.call_sid, result.unavailable)
        else:
            log.exception("outcome event %s (call %s) kept pending: write failed",
                          event.event_id, event.call_sid)
        return
    except (SQLAlchemyError, ValueError, KeyError, TypeError):
        # A bug or a data surprise: log with the call, keep it pending, carry on with the rest.
        result.failed += 1
        log.exception("outcome event %s (call %s) kept pending: apply failed",
                      event.event_id, event.call_sid)
        return
    _count(result, outcome)
    done.append(event.stream_id)


def _count(result: DrainResult, outcome: str) -> None:
    if outcome == "written":
        result.written += 1
    elif outcome == "duplicate":
        result.duplicates += 1
    else:
        result.rejected += 1


def _is_unavailable(exc: DBAPIError | PoolTimeout) -> bool:
    """Connection-level trouble (refused, dropped, server shutting down, pool exhausted, SQLite
    locked): stop and retry later, rather than fail every event in the batch one by one."""
    if isinstance(exc, PoolTimeout | OperationalError | InterfaceError):
        return True
    return bool(exc.connection_invalidated)


def run_event_writer(redis: redis_lib.Redis, session_factory: SessionFactory, *,
                     stop: threading.Event | None = None, group: str = ev.GROUP,
                     consumer: str | None = None, block_ms: int = 2_000,
                     claim_idle_ms: int = 30_000, trim_every: float = 60.0,
                     max_backoff: float = 30.0, hooks: Sequence[RecordHook] = ()) -> None:
    """Apply events until `stop` is set. While the database is down, back off (1 s doubling
    to `max_backoff`) and leave everything pending; the stream keeps the events meanwhile.
    Every `trim_every` seconds, trim entries every group has applied (events.trim_processed).
    """
    import time

    stop = stop or threading.Event()
    consumer = consumer or ev.default_consumer()
    backoff, last_trim = 1.0, time.monotonic()
    log.info("outcome writer %s started (group %s)", consumer, group)
    while not stop.is_set():
        try:
            result = drain_events(redis, session_factory, 1_000, block_ms, group=group,
                                  consumer=consumer, claim_idle_ms=claim_idle_ms,
                                  hooks=hooks)
        except redis_lib.RedisError as exc:  # Redis restarting: the events wait there for us
            log.warning("outcome writer: Redis unavailable (%s); retrying in %.0fs", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        if result.unavailable is not None:
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        backoff = 1.0
        if time.monotonic() - last_trim >= trim_every:
            ev.trim_processed(redis)
            last_trim = time.monotonic()
    log.info("outcome writer %s stopped", consumer)


def start_event_writer(config: Any, *, stop: threading.Event | None = None,
                       burst: bool = False,
                       ready: threading.Event | None = None) -> DrainResult | None:
    """The worker-process entry point: connect from `config` (REDIS_URL or the embedded Redis,
    DATABASE_URL or SQLite under the instance folder), upgrade the schema, then loop until
    `stop` (or, with `burst`, apply what is waiting once and return the result). `ready` is
    set once the setup is done, before the loop.

    Connections are made here, once, never at import (style guide pitfall 3)."""
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url, **config.db_pool())
    redis_url = config.redis_url or EmbeddedRedis(config.instance_dir / "redis").start().url
    conn = redis_connect.connect(redis_url, **config.redis_pool(),
                                 client_name=redis_connect.process_client_name("writer"))
    try:
        sessions = make_session_factory(engine)
        hooks = record_hooks(config, conn, sessions)  # a broken followup.yaml stops us here
        if ready is not None:
            ready.set()  # set up: what the loop needs is imported (queue_worker/worker.py)
        if burst:
            result = drain_events(conn, sessions, hooks=hooks)
            ev.trim_processed(conn)
            return result
        run_event_writer(conn, sessions, stop=stop, hooks=hooks)
        return None
    finally:
        conn.close()
        engine.dispose()
