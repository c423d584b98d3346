"""A call's record in SQL: apply one outcome event (lock the call, enter the event in the
ledger), re-fold the call from its logged events and rewrite its rows (the call row and its
history: steps, self-service attempts, queue visits, voicemails, survey answers, dispositions,
tags, callbacks and their attempts). The outcome writer (queue_worker/outcomes.py) reads the
stream and batches events into transactions around these; the retention job
(ivr/outcomes/retention.py) calls `rebuild_call` after redacting events. Every query on the
call tables lives here, in the store layer (issue 13); the caller holds the transaction.
Must not import Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.domain.outcome import fold_call
from ivr.domain.outcome_record import CallRecord
from ivr.store import events as ev
from ivr.store import flow_rollups
from ivr.store import models as m

log = logging.getLogger(__name__)
RecordHook = Callable[[Session, CallRecord], None]
# A call's history rows besides its steps, which write_record deletes apart (flow rollups).
CHILD_TABLES = (m.SelfServiceAttemptRow, m.QueueVisitRow, m.VoicemailRow, m.SurveyAnswerRow,
                m.DispositionRow, m.CallTagRow, m.AgentWorkRow)


def _when(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def write_record(session: Session, r: CallRecord) -> None:
    """Rewrite the call row and all its history rows from `r` (the caller holds the lock)."""
    sid = r.call_sid
    session.execute(delete(m.CallbackAttemptRow).where(m.CallbackAttemptRow.callback_pk.in_(
        select(m.CallbackRow.id).where(m.CallbackRow.call_sid == sid))))
    session.execute(delete(m.CallbackRow).where(m.CallbackRow.call_sid == sid))
    old_steps = session.execute(delete(m.CallStepRow).where(m.CallStepRow.call_sid == sid)
                                .returning(*flow_rollups.returned_columns())).mappings().all()
    flow_rollups.count_steps(session, old_steps, -1)  # the flow report's hourly rollups
    for table in CHILD_TABLES:
        session.execute(delete(table).where(table.call_sid == sid))
    call = m.CallRow
    session.execute(update(call).where(call.call_sid == sid).values(**_fit(call, dict(
        caller=r.caller, dialed=r.dialed, flow=r.flow, flow_version=r.flow_version,
        started_at=_when(r.started_at), ended_at=_when(r.ended_at), duration_s=r.duration_s,
        end_status=r.end_status, queue=r.queue, skill=r.skill, wait_s=r.wait_s,
        answered=r.answered, abandoned=r.abandoned, agent=r.agent, talk_s=r.talk_s,
        self_service_contained=r.self_service_contained, outcome=r.outcome,
        hold_count=r.floor.hold_count if r.floor.work else None, hold_s=r.floor.hold_s,
        after_call_s=r.floor.after_call_s,
        transferred=r.floor.transferred if r.floor.work else None, floor=floor_json(r),
        updated_at=datetime.now(UTC)))))
    steps = _write_history(session, r)
    _write_callbacks(session, r)
    _fit_new_rows(session)
    flow_rollups.count_steps(session, map(flow_rollups.step_values, steps), 1)  # as stored


def floor_json(r: CallRecord) -> dict[str, Any] | None:
    """The floor's lists for the call record page, the API and the caller history (None for
    a call that never reached the floor)."""
    f = r.floor
    if not (f.work or f.transfers or f.monitoring or f.recordings or f.missed_rings
            or f.caller_hung_up):
        return None
    hung_up = f.caller_hung_up
    return {
        "agents": f.agents,
        "work": [{"agent": w.agent, "queue": w.queue, "talk_s": w.talk_s, "hold_s": w.hold_s,
                  "holds": w.holds, "after_call_s": w.after_call_s, "transfers": w.transfers,
                  "handled": w.handled} for w in f.work],
        "transfers": [{"agent": t.agent, "to_type": t.to_type, "to": t.to, "mode": t.mode,
                       "result": t.result, "at": _iso(t.at)} for t in f.transfers],
        "parties_added": [{"agent": p.agent, "to_type": p.to_type, "to": p.to,
                           "at": _iso(p.at)} for p in f.parties_added],
        "monitoring": [{"supervisor": x.supervisor, "mode": x.mode, "agent": x.agent,
                        "at": _iso(x.at)} for x in f.monitoring],
        "recordings": [{"recording": x.recording_sid, "status": x.status,
                        "duration_s": x.duration_s, "channels": x.channels, "pauses": x.pauses,
                        "started_at": _iso(x.started_at)} for x in f.recordings],
        "missed_rings": [{"agent": x.agent, "result": x.result, "at": _iso(x.at)}
                         for x in f.missed_rings],
        # the caller hung up on an agent (None: an agent left first, or no conference)
        "caller_hung_up": None if hung_up is None else {"agent": hung_up.agent,
                                                        "at": _iso(hung_up.at)},
    }


def floor_summaries(session: Session, sids: Sequence[str]) -> dict[str | None, dict[str, Any]]:
    """How each call went on the agent floor (who handled it, holds, transfers), for the
    worklist: whoever follows a task up sees it. One read; calls without agents left out."""
    if not sids:
        return {}
    rows = session.execute(select(m.CallRow.call_sid, m.CallRow.floor, m.CallRow.hold_count,
                                  m.CallRow.hold_s, m.CallRow.transferred)
                           .where(m.CallRow.call_sid.in_(list(sids)[:500]))).all()
    return {sid: {"agents": floor.get("agents", []), "hold_count": holds, "hold_s": hold_s,
                  "transferred": transferred, "transfers": floor.get("transfers", [])}
            for sid, floor, holds, hold_s, transferred in rows if floor}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


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


def _write_history(session: Session, r: CallRecord) -> list[m.CallStepRow]:
    sid = r.call_sid
    steps = [m.CallStepRow(
        call_sid=sid, seq=i, kind=s.kind, node=s.node, at=_when(s.at), left_at=_when(s.left_at),
        digits=s.digits, speech=s.speech, confidence=s.confidence, detail=s.detail,
        next_node=s.next_node, first_entry=s.first_entry if s.kind == "visit" else None,
        flow=r.flow, hour=int(s.at // 3600), answered=r.answered,
        contained=bool(r.self_service_contained),
        dwell_s=None if s.left_at is None else max(0.0, s.left_at - s.at))
        for i, s in enumerate(r.steps)]
    session.add_all(steps)
    session.add_all([m.SelfServiceAttemptRow(call_sid=sid, seq=i, node=a.node, task=a.task,
                                          solved=a.solved, at=_when(a.at))
                     for i, a in enumerate(r.self_service)])
    session.add_all([m.QueueVisitRow(
        call_sid=sid, seq=i, queue=v.queue, skill=v.skill, joined_at=_when(v.joined_at),
        left_at=_when(v.left_at), result=v.result, wait_s=v.wait_s, agent=v.agent,
        answered_at=_when(v.answered_at), talk_s=v.talk_s, range_low=v.range_low,
        range_high=v.range_high, in_range=v.in_range, hold_s=v.hold_s, hold_count=v.hold_count,
        after_call_s=v.after_call_s, transferred=v.transferred)
        for i, v in enumerate(r.queue_visits)])
    session.add_all([m.AgentWorkRow(
        call_sid=sid, seq=i, agent=w.agent, queue=w.queue,
        at=_when(w.answered_at if w.answered_at is not None else w.first_at),
        handled=w.handled, talk_s=w.talk_s, hold_s=w.hold_s, hold_count=w.holds,
        after_call_s=w.after_call_s, transfers=w.transfers) for i, w in enumerate(r.floor.work)])
    session.add_all([m.VoicemailRow(
        call_sid=sid, seq=i, recording_sid=v.recording_sid, url=v.url, duration_s=v.duration_s,
        queue=v.queue, recorded_at=_when(v.recorded_at), transcript=v.transcript,
        transcript_confidence=v.transcript_confidence, transcribed_at=_when(v.transcribed_at))
        for i, v in enumerate(r.voicemails)])
    session.add_all([m.SurveyAnswerRow(call_sid=sid, seq=i, question=a.question, answer=a.answer,
                                    score=a.score, at=_when(a.at))
                     for i, a in enumerate(r.survey_answers)])
    session.add_all([m.DispositionRow(call_sid=sid, seq=i, agent=d.agent, code=d.code,
                                   notes=d.notes, at=_when(d.at))
                     for i, d in enumerate(r.dispositions)])
    session.add_all([m.CallTagRow(call_sid=sid, tag=t) for t in sorted({t[:64] for t in r.tags})])
    return steps


def _write_callbacks(session: Session, r: CallRecord) -> None:
    rows = [m.CallbackRow(call_sid=r.call_sid, seq=i, callback_id=c.callback_id, queue=c.queue,
                       number=c.number, requested_at=_when(c.requested_at), status=c.status,
                       done_at=_when(c.done_at)) for i, c in enumerate(r.callbacks)]
    session.add_all(rows)
    _fit_new_rows(session)
    session.flush()
    for row, cb in zip(rows, r.callbacks, strict=True):
        session.add_all([m.CallbackAttemptRow(
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
    rows = session.execute(select(m.CallbackRow).where(
        m.CallbackRow.callback_id.in_(sorted(callback_ids)))).scalars().all()
    final = {row.callback_id: row for row in rows if row.status != "pending"}
    for row in rows:
        done = final.get(row.callback_id)
        if row.status == "pending" and done is not None:
            row.status, row.done_at = done.status, done.done_at


def apply_event(session: Session, event: ev.StreamEvent,
                hooks: Sequence[RecordHook] = ()) -> str:
    """Apply one event inside the caller's transaction; returns "written", "duplicate" or
    "rejected" (malformed: logged in processed_events with its error, no effect on a call).
    `hooks` run after the record is rewritten (not for duplicates or rejected events)."""
    outcome = log_event(session, event)
    if outcome == "written":
        assert event.call_sid is not None  # decode() rejects events without one
        write_call(session, event.call_sid, hooks)
    return outcome


def log_event(session: Session, event: ev.StreamEvent) -> str:
    """Lock the event's call and enter the event in the ledger (`processed_events`): "written"
    when it is new, "duplicate" when already there, "rejected" when malformed. The call's
    rows are not rewritten here (`write_call`)."""
    if event.error is None and event.call_sid:
        lock_call(session, event.call_sid)
    if not insert_ignore(session, m.ProcessedEventRow, {
            "event_id": event.event_id, "stream_id": event.stream_id, "kind": event.kind,
            "call_sid": event.call_sid, "at": event.at, "data": event.data,
            "error": event.error, "processed_at": datetime.now(UTC),
            "recording_sid": _recording_sid(event)}):
        return "duplicate"
    if event.error is not None:
        log.error("outcome event %s (call %s) rejected: %s", event.event_id, event.call_sid,
                  event.error)
        return "rejected"
    return "written"


def _recording_sid(event: ev.StreamEvent) -> str | None:
    """The SID a `recording` event names, kept in a column so the lookup by SID is indexed
    (ivr/store/recording_ledger.py `recording_urls`)."""
    sid = event.data.get("recording") if event.kind == "recording" and event.data else None
    return str(sid)[:64] if sid else None


def write_call(session: Session, call_sid: str, hooks: Sequence[RecordHook]) -> None:
    record = rebuild_call(session, call_sid)
    for hook in hooks:
        hook(session, record)


def rebuild_call(session: Session, call_sid: str) -> CallRecord:
    """Re-fold `call_sid` from its logged events and rewrite its rows (also the repair tool
    after a change to the fold's definitions)."""
    rows = session.execute(
        select(m.ProcessedEventRow).where(m.ProcessedEventRow.call_sid == call_sid,
                                       m.ProcessedEventRow.error.is_(None))
        .order_by(m.ProcessedEventRow.at, m.ProcessedEventRow.stream_id)).scalars().all()
    record = fold_call(call_sid, [{"id": r.event_id, "kind": r.kind, "call_sid": r.call_sid,
                                   "at": r.at, "data": r.data} for r in rows])
    write_record(session, record)
    return record


def lock_call(session: Session, call_sid: str) -> None:
    insert_ignore(session, m.CallRow, {"call_sid": call_sid, "answered": False,
                                     "abandoned": False, "outcome": "in_progress"})
    session.execute(select(m.CallRow.call_sid).where(m.CallRow.call_sid == call_sid)
                    .with_for_update())


def insert_ignore(session: Session, model: type[m.Base], values: dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

    RETURNING, not rowcount: an ORM-enabled insert reports no reliable rowcount on psycopg
    (a redelivered event counted as new in the first version of this test)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, model.__table__)
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(
        *table.primary_key.columns)
    return session.execute(stmt).first() is not None
