"""The retention policy applied to the outcome database and to Twilio: recordings and personal
data are deleted after their periods, the anonymised figures stay.

Owns `apply_retention(session_factory, deleter, policy, now)`, run daily by the worker
(`queue_worker/retention.py`) and by `ivr db retention [--dry-run]`. Two passes:

1. Recordings (`IVR_RECORDING_RETENTION_DAYS`, default 30): every voicemail recorded before the
   cut-off is deleted at Twilio (`DELETE /Recordings/{sid}.json`; already gone counts as done),
   then its URL is removed from the call's logged events and the call is re-folded, so the
   voicemail row keeps its duration and sid but no link. The app keeps no local audio copy.
   Recorded agent calls (issue 14; their `recording` events, `ivr/store/recording_ledger.py`)
   follow the same rule: deleted at Twilio, then the URL removed from the event.
2. Personal data (`IVR_RETENTION_DAYS`, default 90): for calls that started before the cut-off,
   SMS messages are deleted at Twilio, every logged event loses the fields
   `ivr.domain.privacy.PERSONAL_FIELDS` lists (caller number, keyed digits, speech,
   transcripts, callback numbers, notes, SMS text), a `redacted` ledger row marks the call
   done, the call is re-folded from the cleaned events, and follow-up tasks of the call lose
   the caller's number, notes, transcript and SMS text (their SMS is deleted at Twilio). A
   call whose recording could not be deleted yet is left for the next run (its URL is the
   only handle on the audio at Twilio). An anonymised call that receives events later (a
   late disposition) is anonymised again on the next run.

Waits, talk time, outcomes, queues, flow paths and survey scores are not personal and stay, so
reports over old periods give the same figures. Must not import Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session, aliased

from ivr.config.log_format import PHONE, mask_phone
from ivr.domain.privacy import (
    PERSONAL_FIELDS,
    RECORDING_FIELDS,
    REDACTED_KIND,
    RetentionPolicy,
    redact_event,
)
from ivr.store import models as m
from ivr.store.call_records import insert_ignore, lock_call, rebuild_call
from ivr.store.db import SessionFactory
from ivr.store.recording_ledger import due_recordings, has_live_recording

log = logging.getLogger(__name__)
MARKER_PREFIX = "redacted:"


class TwilioDeleter(Protocol):
    """Deletes stored media at Twilio; raises when it could not (the item is retried later)."""

    def delete_recording(self, sid: str) -> None: ...
    def delete_message(self, sid: str) -> None: ...


class RestDeleter:
    """`TwilioDeleter` on the twilio REST client (`ivr.phone.call_control.build_client`)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def delete_recording(self, sid: str) -> None:
        self._gone_is_fine(lambda: self.client.recordings(sid).delete())

    def delete_message(self, sid: str) -> None:
        self._gone_is_fine(lambda: self.client.messages(sid).delete())

    @staticmethod
    def _gone_is_fine(delete: Callable[[], Any]) -> None:
        from twilio.base.exceptions import TwilioRestException

        try:
            delete()
        except TwilioRestException as exc:
            if exc.status != 404:  # 404: deleted before (by us, or in Twilio's console)
                raise


@dataclass
class RetentionReport:
    dry_run: bool = False
    recordings_deleted: int = 0
    recordings_failed: int = 0
    calls_redacted: int = 0
    calls_waiting: int = 0  # due, but a recording or message is not deleted at Twilio yet
    messages_deleted: int = 0
    rejected_events_cleared: int = 0

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"{verb} {self.recordings_deleted} recording(s) ({self.recordings_failed} "
                f"failed), anonymised {self.calls_redacted} call(s) ({self.calls_waiting} "
                f"waiting for Twilio), {self.messages_deleted} SMS, "
                f"{self.rejected_events_cleared} rejected event(s) cleared")


def apply_retention(session_factory: SessionFactory, deleter: TwilioDeleter | None,
                    policy: RetentionPolicy, now: float, *, dry_run: bool = False,
                    batch: int = 500) -> RetentionReport:
    """Apply `policy` at epoch second `now`. With `dry_run`, count what is due and change
    nothing (no Twilio request either). `deleter` None skips Twilio (the items wait)."""
    report = RetentionReport(dry_run=dry_run)
    personal_cut, recording_cut = policy.cutoffs(now)
    if recording_cut is not None:
        _delete_recordings(session_factory, deleter, recording_cut, report, batch)
    if personal_cut is not None:
        _redact_calls(session_factory, deleter, personal_cut, report, batch)
        _clear_rejected(session_factory, personal_cut, report)
    log.info("retention: %s", report.summary())
    return report


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# -- recordings ------------------------------------------------------------------------------


def _delete_recordings(factory: SessionFactory, deleter: TwilioDeleter | None, cut: float,
                       report: RetentionReport, batch: int) -> None:
    """Voicemails, then recorded agent calls, each at most `batch` a run."""
    with factory() as session:
        due = [(str(call), str(sid)) for call, sid in session.execute(
            select(m.VoicemailRow.call_sid, m.VoicemailRow.recording_sid).where(
                m.VoicemailRow.url.is_not(None), m.VoicemailRow.url != "",
                m.VoicemailRow.recorded_at < _when(cut)).limit(batch))]
        due += due_recordings(session, _when(cut), batch)
    for call_sid, recording in due:
        if report.dry_run:
            report.recordings_deleted += 1
            continue
        try:
            if deleter is None:
                raise RuntimeError("no Twilio client configured")
            if recording.startswith("RE"):  # else the sid was missing: nothing to name
                deleter.delete_recording(recording)
        except Exception:  # noqa: BLE001 - logged; this recording is tried again next run
            report.recordings_failed += 1
            log.exception("retention: recording %s of call %s not deleted at Twilio",
                          recording, call_sid)
            continue
        with factory() as session, session.begin():
            _rewrite_events(session, call_sid, RECORDING_FIELDS, _of_recording(recording))
        report.recordings_deleted += 1


def _of_recording(recording: str) -> Callable[[m.ProcessedEventRow], bool]:
    return lambda event: (event.data or {}).get("recording") == recording


def _rewrite_events(session: Session, call_sid: str, fields: Any,
                    which: Callable[[m.ProcessedEventRow], bool] = lambda e: True) -> None:
    """Drop `fields` from the call's logged events (those `which` picks), then re-fold."""

    lock_call(session, call_sid)
    rows = session.execute(select(m.ProcessedEventRow).where(
        m.ProcessedEventRow.call_sid == call_sid)).scalars().all()
    for row in rows:
        cleaned = redact_event(row.kind, row.data or {}, fields)
        if which(row) and cleaned != (row.data or {}):
            session.execute(update(m.ProcessedEventRow).where(
                m.ProcessedEventRow.event_id == row.event_id).values(data=cleaned))
    session.expire_all()
    rebuild_call(session, call_sid)


# -- personal data ---------------------------------------------------------------------------


def _due_calls(session: Session, cut: float, batch: int) -> list[str]:
    marker = aliased(m.ProcessedEventRow)
    started = func.coalesce(m.CallRow.started_at, m.CallRow.updated_at)
    query = (select(m.CallRow.call_sid)
             .outerjoin(marker, marker.event_id == literal(MARKER_PREFIX) + m.CallRow.call_sid)
             .where(marker.event_id.is_(None), started < _when(cut))
             .order_by(started).limit(batch))
    return list(session.execute(query).scalars())


def _relapsed_calls(session: Session, batch: int) -> list[str]:
    """Anonymised calls that were sent events since (a late disposition, a callback attempt):
    they are anonymised again, so personal data never comes back through the ledger."""
    marker = aliased(m.ProcessedEventRow)
    event = m.ProcessedEventRow
    query = (select(event.call_sid).distinct()
             .join(marker, marker.event_id == literal(MARKER_PREFIX) + event.call_sid)
             .where(event.kind != REDACTED_KIND, event.processed_at > marker.processed_at)
             .limit(batch))
    return [sid for sid in session.execute(query).scalars() if sid]


def _redact_calls(factory: SessionFactory, deleter: TwilioDeleter | None, cut: float,
                  report: RetentionReport, batch: int) -> None:
    with factory() as session:
        due = _due_calls(session, cut, batch)
        due += [sid for sid in _relapsed_calls(session, batch) if sid not in due]
    for call_sid in due:
        with factory() as session:
            # A dry run deleted no recording, so it cannot wait for one: counted as due.
            waiting = not report.dry_run and _has_recording(session, call_sid)
            messages = _message_sids(session, call_sid)
        if waiting or not _delete_messages(deleter, messages, report):
            report.calls_waiting += 1
            continue
        if not report.dry_run:
            with factory() as session, session.begin():
                redact_call(session, call_sid, datetime.fromtimestamp(cut, UTC))
        report.calls_redacted += 1


def _has_recording(session: Session, call_sid: str) -> bool:
    return session.execute(select(func.count()).select_from(m.VoicemailRow).where(
        m.VoicemailRow.call_sid == call_sid, m.VoicemailRow.url.is_not(None),
        m.VoicemailRow.url != "")).scalar_one() > 0 or has_live_recording(session, call_sid)


def _message_sids(session: Session, call_sid: str) -> list[str]:
    rows = session.execute(select(m.ProcessedEventRow.data).where(
        m.ProcessedEventRow.call_sid == call_sid,
        m.ProcessedEventRow.kind.in_(("sms_survey_sent", "survey_answer")))).scalars()
    sids = {str(d["message"]) for d in rows if d and "message" in d}
    sids.update(str(sid) for sid in session.execute(select(m.FollowupTaskRow.sms_sid).where(
        m.FollowupTaskRow.call_sid == call_sid, m.FollowupTaskRow.sms_sid.is_not(None))).scalars())
    return sorted(s for s in sids if s.startswith(("SM", "MM")))


def _delete_messages(deleter: TwilioDeleter | None, sids: Iterable[str],
                     report: RetentionReport) -> bool:
    """Delete the call's SMS at Twilio; False (the call waits) when one could not be."""
    for sid in sids:
        if not report.dry_run:
            try:
                if deleter is None:
                    raise RuntimeError("no Twilio client configured")
                deleter.delete_message(sid)
            except Exception:  # noqa: BLE001 - logged; the call is redacted on a later run
                log.exception("retention: SMS %s not deleted at Twilio", sid)
                return False
        report.messages_deleted += 1
    return True


def redact_call(session: Session, call_sid: str, cut: datetime) -> None:
    """Remove the call's personal data from its events, mark it, re-fold it, and clear its
    follow-up tasks' number and notes (the caller holds the transaction)."""

    _rewrite_events(session, call_sid, PERSONAL_FIELDS)
    insert_ignore(session, m.ProcessedEventRow, {
        "event_id": MARKER_PREFIX + call_sid, "stream_id": "retention", "kind": REDACTED_KIND,
        "call_sid": call_sid, "at": cut.timestamp(), "data": {"cutoff": cut.isoformat()},
        "error": None, "processed_at": datetime.now(UTC)})
    session.execute(update(m.ProcessedEventRow).where(  # anonymised again: the marker moves on
        m.ProcessedEventRow.event_id == MARKER_PREFIX + call_sid).values(
        processed_at=datetime.now(UTC)))
    tasks = session.execute(select(m.FollowupTaskRow).where(
        m.FollowupTaskRow.call_sid == call_sid)).scalars()
    for task in tasks:  # the reason may quote the number ("{caller}" in followup.yaml)
        task.caller = task.notes = task.transcript = task.sms = None
        task.reason = PHONE.sub("(number removed)", task.reason or "")


def _clear_rejected(factory: SessionFactory, cut: float, report: RetentionReport) -> None:
    """Rejected events keep their raw payload for an operator; after the period it goes."""
    if report.dry_run:
        return
    with factory() as session, session.begin():
        rows = session.execute(select(m.ProcessedEventRow).where(
            m.ProcessedEventRow.error.is_not(None),
            m.ProcessedEventRow.processed_at < _when(cut))).scalars().all()
        for row in rows:
            if row.data:  # JSON has no equality in PostgreSQL: filtered here, not in SQL
                row.data, row.error = {}, mask_phone(row.error or "")
                report.rejected_events_cleared += 1
