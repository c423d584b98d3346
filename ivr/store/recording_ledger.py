"""Agent-call recordings in the outcome database: read from the logged `recording` events.

Voicemails have their own rows (`VoicemailRow`, folded from `voicemail_recorded`); an agent
call's recording is known only by its events (docs/agent-floor.md, "Outcome events"): the
`completed` one carries the recording's URL (`url`) until the retention job deletes the audio
at Twilio and drops the URL from the event (ivr/outcomes/retention.py). So the ledger is the
one place these queries read: no second copy that could disagree with it. Must not import
Flask or Twilio.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select
from sqlalchemy.orm import Session

from ivr.store import models as m

KIND = "recording"


def _url() -> ColumnElement[str]:
    """data->>'url' (SQLite: json_extract), the same SQL on both databases."""
    return m.ProcessedEventRow.data["url"].as_string()


def _sid() -> ColumnElement[str]:
    return m.ProcessedEventRow.data["recording"].as_string()


def recording_urls(engine: Engine, recording_sid: str) -> list[str | None] | None:
    """The URLs the `completed` events of agent-call recording `recording_sid` hold (None
    for one whose audio was deleted); None when no agent call has that recording."""
    with engine.connect() as conn:
        rows = conn.execute(events_of(recording_sid)).scalars().all()
    if not rows:
        return None
    return [str(d["url"]) if d.get("url") else None for d in rows
            if d.get("action") == "completed"] or [None]


def events_of(recording_sid: str) -> Select[tuple[dict[str, Any]]]:
    """The payloads of the `recording` events naming `recording_sid`, read through the
    `recording_sid` column's index (migration 0012), not by extracting it from each event's
    JSON (which no index serves: every recording event was read)."""
    return select(m.ProcessedEventRow.data).where(
        m.ProcessedEventRow.recording_sid == recording_sid,
        m.ProcessedEventRow.kind == KIND, m.ProcessedEventRow.error.is_(None))


def due_recordings(session: Session, cut: datetime, batch: int) -> list[tuple[str, str]]:
    """(caller CallSid, recording sid) of agent-call recordings completed before `cut` whose
    audio is still at Twilio (their event still holds the URL), oldest first."""
    url = _url()
    rows = session.execute(select(m.ProcessedEventRow.call_sid, _sid()).where(
        m.ProcessedEventRow.kind == KIND, m.ProcessedEventRow.error.is_(None),
        url.is_not(None), url != "", m.ProcessedEventRow.at < cut.timestamp())
        .order_by(m.ProcessedEventRow.at).limit(batch)).all()
    return [(str(call), str(sid)) for call, sid in rows if call and sid]


def has_live_recording(session: Session, call_sid: str) -> bool:
    """True while an agent-call recording of `call_sid` is still stored at Twilio."""
    url = _url()
    return session.execute(select(func.count()).select_from(m.ProcessedEventRow).where(
        m.ProcessedEventRow.call_sid == call_sid, m.ProcessedEventRow.kind == KIND,
        m.ProcessedEventRow.error.is_(None), url.is_not(None), url != "")).scalar_one() > 0
