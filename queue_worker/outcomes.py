"""The outcome-event writer: Redis stream -> call records in SQL, each event exactly once.

`drain_events` applies what is waiting and returns (tests, `ivr db` tools, a burst job);
`run_event_writer` loops for the worker process. Each event is applied in one transaction
that (1) creates and locks the call's row, (2) inserts the event into `processed_events`
(primary key = event id; a conflict means "already applied": nothing else is written), (3)
re-folds the call from all its logged events with `ivr.domain.outcome.fold_call` and rewrites
the call row and its history, then (4) runs the record hooks. Only after the commit is the
entry XACKed. So:
- a crash between commit and XACK redelivers the event, and the ledger turns it into a no-op;
- a database error rolls back and leaves the entry pending; it is claimed again (XAUTOCLAIM)
  once idle for `claim_idle_ms`, so an outage delays outcomes but loses none;
- re-folding (instead of incrementing) makes order irrelevant: a late or redelivered
  `queue_left` still yields the same wait and talk time as in-order delivery.
The row lock serialises writers on one call (PostgreSQL: SELECT ... FOR UPDATE; SQLite: its
single write lock, taken up front by BEGIN IMMEDIATE), so concurrent writers never fold from
a stale event list.

Record hooks ("after a record is written"): `hooks=` on `drain_events`/`run_event_writer` is a
sequence of `RecordHook(session, record)` called inside the event's transaction, after the
call's rows are rewritten, with the lock held. They commit or roll back with the record, so a
hook's own writes are exactly-once too (a duplicate event runs no hook). A hook that raises
keeps the event pending (retried later) rather than committing a record without its effect.
The worker's hooks are listed in `queue_worker/record_hooks.py` (follow-up tasks first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import redis as redis_lib
from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from ivr.domain.outcome import CallRecord, fold_call
from ivr.store import events as ev
from ivr.store import models as m
from ivr.store import redis_connect
from ivr.store.db import SessionFactory

log = logging.getLogger(__name__)
RecordHook = Callable[[Session, CallRecord], None]
CHILD_TABLES = (m.CallStep, m.SelfServiceAttempt, m.QueueVisit, m.Voicemail, m.SurveyAnswer,
                m.Disposition, m.CallTag)


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
                 hooks: Sequence[RecordHook] = ()) -> DrainResult:
    """Apply stale pending entries (idle >= claim_idle_ms), then new ones until none arrive
    within `block_ms` (None: do not wait) or `max_events` were taken. Stops early, leaving the
    rest pending, when the database is unreachable (`result.unavailable`)."""
    consumer = consumer or ev.default_consumer()
    ev.ensure_group(redis, group)
    result = DrainResult()
    limit = max_events if max_events is not None else float("inf")
    stale = ev.claim_stale(redis, group, consumer, claim_idle_ms, int(min(limit, 10_000)))
    _apply_batch(redis, session_factory, group, stale, result, hooks)
    while result.unavailable is None and _taken(result) < limit:
        count = int(min(batch, limit - _taken(result)))
        fresh = ev.read_new(redis, group, consumer, count, block_ms)
        if not fresh:
            break
        _apply_batch(redis, session_factory, group, fresh, result, hooks)
    return result


def _taken(result: DrainResult) -> int:
    return result.handled + result.failed


def _apply_batch(redis: redis_lib.Redis, session_factory: SessionFactory, group: str,
                 events: list[ev.StreamEvent], result: DrainResult,
                 hooks: Sequence[RecordHook] = ()) -> None:
    done: list[str] = []
    try:
        for event in events:
            if result.unavailable is not None:
                break
            _apply_one(session_factory, event, result, done, hooks)
    finally:
        ev.ack(redis, group, done)
        result.acked.extend(done)


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
    if outcome == "written":
        result.written += 1
    elif outcome == "duplicate":
        result.duplicates += 1
    else:
        result.rejected += 1
    done.append(event.stream_id)


def _is_unavailable(exc: DBAPIError | PoolTimeout) -> bool:
    """Connection-level trouble (refused, dropped, server shutting down, pool exhausted, SQLite
    locked): stop and retry later, rather than fail every event in the batch one by one."""
    if isinstance(exc, PoolTimeout | OperationalError | InterfaceError):
        return True
    return bool(exc.connection_invalidated)


def apply_event(session: Session, event: ev.StreamEvent,
                hooks: Sequence[RecordHook] = ()) -> str:
    """Apply one event inside the caller's transaction; returns "written", "duplicate" or
    "rejected" (malformed: logged in processed_events with its error, no effect on a call).
    `hooks` run after the record is rewritten (not for duplicates or rejected events)."""
    if event.error is None and event.call_sid:
        _lock_call(session, event.call_sid)
    if not _insert_ignore(session, m.ProcessedEvent, {
            "event_id": event.event_id, "stream_id": event.stream_id, "kind": event.kind,
            "call_sid": event.call_sid, "at": event.at, "data": event.data,
            "error": event.error, "processed_at": datetime.now(UTC)}):
        return "duplicate"
    if event.error is not None:
        log.error("outcome event %s (call %s) rejected: %s", event.event_id, event.call_sid,
                  event.error)
        return "rejected"
    assert event.call_sid is not None  # decode() rejects events without one
    record = rebuild_call(session, event.call_sid)
    for hook in hooks:
        hook(session, record)
    return "written"


def rebuild_call(session: Session, call_sid: str) -> CallRecord:
    """Re-fold `call_sid` from its logged events and rewrite its rows (also the repair tool
    after a change to the fold's definitions)."""
    rows = session.execute(
        select(m.ProcessedEvent).where(m.ProcessedEvent.call_sid == call_sid,
                                       m.ProcessedEvent.error.is_(None))
        .order_by(m.ProcessedEvent.at, m.ProcessedEvent.stream_id)).scalars().all()
    record = fold_call(call_sid, [{"id": r.event_id, "kind": r.kind, "call_sid": r.call_sid,
                                   "at": r.at, "data": r.data} for r in rows])
    write_record(session, record)
    return record


def _lock_call(session: Session, call_sid: str) -> None:
    _insert_ignore(session, m.Call, {"call_sid": call_sid, "answered": False,
                                     "abandoned": False, "outcome": "in_progress"})
    session.execute(select(m.Call.call_sid).where(m.Call.call_sid == call_sid)
                    .with_for_update())


def _insert_ignore(session: Session, model: type[m.Base], values: dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    RETURNING, not rowcount: an ORM-enabled insert reports no reliable rowcount on psycopg
    (a redelivered event counted as new in the first version of this test)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, model.__table__)
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(
        *table.primary_key.columns)
    return session.execute(stmt).first() is not None


def _when(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def write_record(session: Session, r: CallRecord) -> None:
    """Rewrite the call row and all its history rows from `r` (the caller holds the lock)."""
    sid = r.call_sid
    session.execute(delete(m.CallbackAttempt).where(m.CallbackAttempt.callback_pk.in_(
        select(m.Callback.id).where(m.Callback.call_sid == sid))))
    session.execute(delete(m.Callback).where(m.Callback.call_sid == sid))
    for table in CHILD_TABLES:
        session.execute(delete(table).where(table.call_sid == sid))
    session.execute(update(m.Call).where(m.Call.call_sid == sid).values(**_fit(m.Call, dict(
        caller=r.caller, dialed=r.dialed, flow=r.flow, flow_version=r.flow_version,
        started_at=_when(r.started_at), ended_at=_when(r.ended_at), duration_s=r.duration_s,
        end_status=r.end_status, queue=r.queue, skill=r.skill, wait_s=r.wait_s,
        answered=r.answered, abandoned=r.abandoned, agent=r.agent, talk_s=r.talk_s,
        self_service_contained=r.self_service_contained, outcome=r.outcome,
        updated_at=datetime.now(UTC)))))
    _write_history(session, r)
    _write_callbacks(session, r)
    _fit_new_rows(session)


def _fit(model: type[m.Base], values: dict[str, Any]) -> dict[str, Any]:
    """Strings cut to their column's length. A caller's 300-character speech fits (Text), but
    an over-long node or agent name would make PostgreSQL refuse the whole event forever (a
    DataError is not an outage, so it would be retried and logged at every claim)."""
    columns = cast(Table, model.__table__).columns
    fitted = dict(values)
    for name, value in values.items():
        length = getattr(columns[name].type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            fitted[name] = value[:length]
    return fitted


def _fit_new_rows(session: Session) -> None:
    for row in session.new:
        values = {c.key: getattr(row, c.key) for c in cast(Table, row.__table__).columns}
        for name, value in _fit(type(row), values).items():
            if value is not values[name]:
                setattr(row, name, value)


def _write_history(session: Session, r: CallRecord) -> None:
    sid = r.call_sid
    session.add_all([m.CallStep(
        call_sid=sid, seq=i, kind=s.kind, node=s.node, at=_when(s.at), left_at=_when(s.left_at),
        digits=s.digits, speech=s.speech, confidence=s.confidence, detail=s.detail,
        next_node=s.next_node, first_entry=s.first_entry if s.kind == "visit" else None,
        flow=r.flow, hour=int(s.at // 3600), answered=r.answered,
        contained=bool(r.self_service_contained),
        dwell_s=None if s.left_at is None else max(0.0, s.left_at - s.at))
        for i, s in enumerate(r.steps)])
    session.add_all([m.SelfServiceAttempt(call_sid=sid, seq=i, node=a.node, task=a.task,
                                          solved=a.solved, at=_when(a.at))
                     for i, a in enumerate(r.self_service)])
    session.add_all([m.QueueVisit(
        call_sid=sid, seq=i, queue=v.queue, skill=v.skill, joined_at=_when(v.joined_at),
        left_at=_when(v.left_at), result=v.result, wait_s=v.wait_s, agent=v.agent,
        answered_at=_when(v.answered_at), talk_s=v.talk_s, range_low=v.range_low,
        range_high=v.range_high, in_range=v.in_range) for i, v in enumerate(r.queue_visits)])
    session.add_all([m.Voicemail(
        call_sid=sid, seq=i, recording_sid=v.recording_sid, url=v.url, duration_s=v.duration_s,
        queue=v.queue, recorded_at=_when(v.recorded_at), transcript=v.transcript,
        transcript_confidence=v.transcript_confidence, transcribed_at=_when(v.transcribed_at))
        for i, v in enumerate(r.voicemails)])
    session.add_all([m.SurveyAnswer(call_sid=sid, seq=i, question=a.question, answer=a.answer,
                                    score=a.score, at=_when(a.at))
                     for i, a in enumerate(r.survey_answers)])
    session.add_all([m.Disposition(call_sid=sid, seq=i, agent=d.agent, code=d.code,
                                   notes=d.notes, at=_when(d.at))
                     for i, d in enumerate(r.dispositions)])
    session.add_all([m.CallTag(call_sid=sid, tag=t) for t in sorted({t[:64] for t in r.tags})])


def _write_callbacks(session: Session, r: CallRecord) -> None:
    rows = [m.Callback(call_sid=r.call_sid, seq=i, callback_id=c.callback_id, queue=c.queue,
                       number=c.number, requested_at=_when(c.requested_at), status=c.status,
                       done_at=_when(c.done_at)) for i, c in enumerate(r.callbacks)]
    session.add_all(rows)
    _fit_new_rows(session)
    session.flush()
    for row, cb in zip(rows, r.callbacks, strict=True):
        session.add_all([m.CallbackAttempt(
            callback_pk=row.id, seq=i, attempt=a.attempt, at=_when(a.at), result=a.result,
            leg_sid=a.leg_sid, agent=a.agent) for i, a in enumerate(cb.attempts)])
    _share_callback_outcomes(session, {c.callback_id for c in r.callbacks if c.callback_id})


def _share_callback_outcomes(session: Session, callback_ids: set[str]) -> None:
    """A second request from the same number joins the pending callback (callback.lua): both
    calls' rows carry one callback id, but its attempts and outcome land on the first call
    only. Every row of a callback id gets its final status, so a merged request is not
    counted as pending for ever (reports' callbacks_pending)."""
    if not callback_ids:
        return
    rows = session.execute(select(m.Callback).where(
        m.Callback.callback_id.in_(sorted(callback_ids)))).scalars().all()
    final = {row.callback_id: row for row in rows if row.status != "pending"}
    for row in rows:
        done = final.get(row.callback_id)
        if row.status == "pending" and done is not None:
            row.status, row.done_at = done.status, done.done_at


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
    from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database
    from ivr.store.embedded_redis import EmbeddedRedis

    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url, **config.db_pool())
    redis_url = config.redis_url or EmbeddedRedis(config.instance_dir / "redis").start().url
    conn = redis_connect.connect(redis_url, **config.redis_pool(),
                                 client_name=redis_connect.process_client_name("writer"))
    try:
        from queue_worker.record_hooks import record_hooks

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
