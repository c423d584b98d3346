"""A caller's history from the outcome database: last calls, open follow-up tasks, surveys.

`caller_history(session, number, now=...)` is what `/api/callers/<number>` returns (the agent
console shows it beside a call); `summary_for(session, number, now)` is the small summary the
worker keeps in Redis for flows (ivr/store/caller_summary.py). Numbers are matched in their
canonical form (ivr.domain.phone_numbers.canonical_number), so `+1 415 555 0100` and
`4155550100` are the same caller. Follow-up tasks come from `followup_tasks`
(ivr/store/tasks.py); where that module or table is missing, `open_tasks` is None and the rest
still answers. Must not import Flask or Redis.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr.domain.caller_history import WINDOW_S, summary_fields
from ivr.domain.phone_numbers import canonical_number
from ivr.store import models as m
from ivr.store.tasks import open_tasks_for_caller, task_json

log = logging.getLogger(__name__)
MAX_LIMIT = 50


def number_forms(number: str) -> list[str]:
    """The forms a stored number may have, canonical first: Twilio sends E.164, but a record
    from a SIP trunk or an old import may hold bare digits (`14155550100`, `4155550100` for
    North America). Anything that is not a number matches only itself."""
    canonical = canonical_number(number)
    forms = [canonical]
    if canonical.startswith("+"):
        forms.append(canonical[1:])
        if canonical.startswith("+1") and len(canonical) == 12:
            forms.append(canonical[2:])
    raw = (number or "").strip()
    return forms + ([raw] if raw and raw not in forms else [])


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone columns; they were stored as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _iso(at: datetime | None) -> str | None:
    at = _aware(at)
    return at.astimezone(UTC).isoformat(timespec="seconds") if at else None


def caller_history(session: Session, number: str, *, now: datetime,
                   limit: int = 5) -> dict[str, Any]:
    """The caller's last `limit` calls (newest first), open follow-up tasks, survey results
    and repeat-caller figures, as JSON-ready data (shape in docs/reports.md)."""
    forms = number_forms(number)
    limit = max(1, min(int(limit), MAX_LIMIT))
    calls = session.execute(
        select(m.CallRow).where(m.CallRow.caller.in_(forms), m.CallRow.started_at.is_not(None))
        .order_by(m.CallRow.started_at.desc()).limit(limit)).scalars().all()
    total, first, last = session.execute(
        select(func.count(), func.min(m.CallRow.started_at), func.max(m.CallRow.started_at))
        .where(m.CallRow.caller.in_(forms))).one()
    since = now - timedelta(seconds=WINDOW_S)
    recent = session.execute(select(func.count()).where(
        m.CallRow.caller.in_(forms), m.CallRow.started_at >= since)).scalar_one()
    return {
        "number": forms[0],
        "calls_total": int(total or 0),
        "calls_24h": int(recent or 0),
        "repeat_caller": int(recent or 0) >= 2,
        "first_seen": _iso(first), "last_seen": _iso(last),
        "calls": [_call_json(c) for c in calls],
        "open_tasks": open_tasks(session, forms, now),
        "satisfaction": _satisfaction(session, forms),
    }


def _call_json(call: m.CallRow) -> dict[str, Any]:
    disposition = call.dispositions[-1] if call.dispositions else None
    return {
        "call_sid": call.call_sid, "started_at": _iso(call.started_at),
        "ended_at": _iso(call.ended_at), "flow": call.flow, "queue": call.queue,
        "outcome": call.outcome, "wait_s": call.wait_s, "talk_s": call.talk_s,
        "agent": call.agent,
        "disposition": None if disposition is None else {
            "code": disposition.code, "notes": disposition.notes, "agent": disposition.agent},
        "survey": {a.question: {"answer": a.answer, "score": a.score}
                   for a in call.survey_answers},
        "tags": [t.tag for t in call.tags],
        # the agent floor: who handled it, holds, after-call work, transfers, monitoring,
        # recordings (ivr/store/call_records.floor_json; None before the floor)
        "hold_count": call.hold_count, "hold_s": call.hold_s,
        "after_call_s": call.after_call_s, "transferred": call.transferred,
        "floor": call.floor,
    }


def _satisfaction(session: Session, forms: list[str]) -> dict[str, Any]:
    rows = session.execute(
        select(m.SurveyAnswerRow.score)
        .join(m.CallRow, m.CallRow.call_sid == m.SurveyAnswerRow.call_sid)
        .where(m.CallRow.caller.in_(forms), m.SurveyAnswerRow.question == "satisfaction",
               m.SurveyAnswerRow.score.is_not(None))
        .order_by(m.SurveyAnswerRow.at.desc())).scalars().all()
    scores = [int(s) for s in rows if s is not None and 1 <= int(s) <= 5]
    return {"surveys": len(scores), "last": scores[0] if scores else None,
            "mean": round(sum(scores) / len(scores), 2) if scores else None}


def open_tasks(session: Session, forms: list[str], now: datetime) -> list[dict[str, Any]] | None:
    """Open follow-up tasks for the number, or None where the follow-up tasks' table is not
    migrated: the caller's other history still shows."""
    try:
        with session.begin_nested():  # a missing table must not abort the outer transaction
            tasks = {t.id: t for form in forms for t in open_tasks_for_caller(session, form)}
            return [task_json(t, now) for t in sorted(tasks.values(),
                                                      key=lambda t: (t.priority, t.id))]
    except SQLAlchemyError as exc:
        log.warning("caller history: follow-up tasks unavailable (%s); showing calls only",
                    str(exc).splitlines()[0][:200])
        return None


def summary_for(session: Session, number: str, now: datetime) -> dict[str, str]:
    """The Redis summary of `number` (ivr/domain/caller_history.py) from the database."""
    forms = number_forms(number)
    since = now - timedelta(seconds=WINDOW_S)
    starts = session.execute(select(m.CallRow.started_at).where(
        m.CallRow.caller.in_(forms), m.CallRow.started_at >= since)).scalars().all()
    last = session.execute(
        select(m.CallRow.started_at, m.CallRow.outcome).where(
            m.CallRow.caller.in_(forms), m.CallRow.started_at.is_not(None))
        .order_by(m.CallRow.started_at.desc()).limit(1)).first()
    answers = dict(session.execute(
        select(m.SurveyAnswerRow.question, m.SurveyAnswerRow.answer)
        .join(m.CallRow, m.CallRow.call_sid == m.SurveyAnswerRow.call_sid)
        .where(m.CallRow.caller.in_(forms), m.SurveyAnswerRow.question.in_(("resolved",)))
        .order_by(m.SurveyAnswerRow.at.asc())).all())
    satisfaction = _satisfaction(session, forms)["last"]
    total = session.execute(select(func.count()).where(m.CallRow.caller.in_(forms))).scalar_one()
    tasks = open_tasks(session, forms, now)
    stamps = [a.timestamp() for a in (_aware(s) for s in starts) if a is not None]
    if last is not None and (seen := _aware(last[0])) is not None:
        stamps.append(seen.timestamp())
    return summary_fields(sorted(set(stamps)), last[1] if last else None, satisfaction,
                          answers.get("resolved"), len(tasks or []), int(total or 0),
                          now.timestamp())
