"""Reports from the outcome database: read the facts a period needs, compute with the domain.

Owns the SQL side of `ivr.domain.reports` (which holds every definition); the `reporting:`
settings in queues.yaml are read by ivr/config/reporting.py. Used by `ivr report`,
`/api/reports` and the wallboard's today (dashboards/today.py). Must not import Flask or Redis.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ivr.domain.errors import ConfigError
from ivr.domain.phone_numbers import canonical_number
from ivr.domain.reports import (
    AgentFigures,
    Bucket,
    CallbackFact,
    CallFact,
    Facts,
    Figures,
    ReportSettings,
    VisitFact,
    WorkFact,
    agent_figures,
    compute_agent_report,
    compute_report,
    day_buckets,
)
from ivr.store import models as m


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# The columns a report reads, and only those. Whole ORM entities cost several kilobytes a call
# (identity map, instance state, every column, the `floor` JSON of each call), and the wallboard
# reads the whole day every 10 s: the stream service's memory peak, and so its RSS, grew with
# every call of the day (about 7 KB per call; issue 12's soak, 0.7 MB a minute at 1 call/s).
V, C, W, A, B = m.QueueVisitRow, m.CallRow, m.AgentWorkRow, m.SurveyAnswerRow, m.CallbackRow
VISIT_COLUMNS = (V.queue, V.joined_at, V.answered_at, V.wait_s, V.talk_s, V.result, V.agent,
                 V.range_low, V.range_high, V.in_range, V.hold_s, V.hold_count, V.after_call_s,
                 V.transferred)
CALL_COLUMNS = (C.call_sid, C.caller, C.started_at, C.queue, C.answered,
                C.self_service_contained)
WORK_COLUMNS = (W.agent, W.queue, W.at, W.handled, W.talk_s, W.hold_s, W.hold_count, W.after_call_s,
                W.transfers)
ANSWER_COLUMNS = (A.call_sid, A.question, A.score, A.answer)


def load_facts(session: Session, start: float, end: float, repeat_window_s: float) -> Facts:
    """Visits joined and callbacks requested in [start, end); calls started in
    [start, end + repeat_window_s), the later ones for first-contact resolution. Read as
    plain rows of the needed columns (see VISIT_COLUMNS), never as ORM entities."""
    visits = session.execute(select(*VISIT_COLUMNS).where(
        V.joined_at >= _when(start), V.joined_at < _when(end))).all()
    callbacks = session.execute(select(B.queue, B.requested_at, B.status).where(
        B.requested_at >= _when(start), B.requested_at < _when(end))).all()
    calls = session.execute(select(*CALL_COLUMNS).where(
        C.started_at >= _when(start), C.started_at < _when(end + repeat_window_s))).all()
    answers = _survey_answers(session, start, end)
    work = session.execute(select(*WORK_COLUMNS).where(
        W.at >= _when(start), W.at < _when(end))).all()
    return Facts(
        visits=[VisitFact(v.queue, _epoch(v.joined_at) or 0.0, v.answered_at is not None,
                          v.wait_s, v.talk_s, v.result, v.agent, _width(v), v.in_range,
                          v.hold_s, v.hold_count, v.after_call_s, v.transferred)
                for v in visits],
        calls=[_call_fact(c, answers.get(c.call_sid, {})) for c in calls],
        callbacks=[CallbackFact(c.queue, _epoch(c.requested_at) or 0.0, c.status)
                   for c in callbacks],
        work=[work_fact(w) for w in work])


def work_fact(w: Any) -> WorkFact:
    """From an AgentWorkRow or a row of WORK_COLUMNS."""
    return WorkFact(w.agent, w.queue, _epoch(w.at) or 0.0, w.handled, w.talk_s, w.hold_s,
                    w.hold_count, w.after_call_s, w.transfers)


def _width(visit: Any) -> float | None:
    if visit.range_low is None or visit.range_high is None:
        return None
    return visit.range_high - visit.range_low


def _survey_answers(session: Session, start: float, end: float) -> dict[str, dict[str, Any]]:
    """The satisfaction and resolved answers of calls started in [start, end), by call.

    One statement whose SQL text is the same whatever the day holds: a join on the calls'
    start, not `call_sid IN (?, ?, ...)` over the day's calls. That list gave a new SQL text
    for every count of calls, and each was kept prepared in the driver's statement cache
    (pysqlite: 128 per connection, ~20 KB per 100 parameters), so the stream service, which
    reads today every 10 s, grew all day (issue 12's soak: ~0.65 MB a minute at 1 call/s)."""
    rows = session.execute(select(*ANSWER_COLUMNS).join(C, C.call_sid == A.call_sid).where(
        C.started_at >= _when(start), C.started_at < _when(end),
        A.question.in_(("satisfaction", "resolved")))).all()
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out.setdefault(row.call_sid, {})[row.question] = row
    return out


def _call_fact(call: Any, answers: dict[str, Any]) -> CallFact:
    score = answers["satisfaction"].score if "satisfaction" in answers else None
    resolved = answers["resolved"].answer if "resolved" in answers else None
    return CallFact(
        call_sid=call.call_sid, caller=canonical_number(call.caller) if call.caller else None,
        started_at=_epoch(call.started_at) or 0.0, queue=call.queue, answered=call.answered,
        contained=call.self_service_contained,
        satisfaction=score if score is not None and 1 <= score <= 5 else None,
        resolved=(resolved or "").strip().lower() or None)


def day_facts(engine: Engine, day: date, by: str,
              settings: ReportSettings) -> tuple[list[Bucket], Facts]:
    """The buckets of `day` (business timezone) by "hour" or "day", and the facts they need."""
    buckets = day_buckets(day, by, settings.timezone)
    with Session(engine) as session:
        facts = load_facts(session, buckets[0].start, buckets[-1].end, settings.repeat_window_s)
    return buckets, facts


def day_report(engine: Engine, day: date, by: str, settings: ReportSettings, now: datetime,
               queue: str | None = None) -> list[Figures]:
    """The report for `day` by "hour" or "day" (all queues and ALL, or one queue)."""
    buckets, facts = day_facts(engine, day, by, settings)
    return compute_report(facts, buckets, settings, now.timestamp(), queue)


def day_reports(engine: Engine, day: date, by: str, settings: ReportSettings, now: datetime,
                queue: str | None = None) -> tuple[list[Figures], list[AgentFigures]]:
    """The queue rows and the agent rows of `day`, from one read of the facts."""
    buckets, facts = day_facts(engine, day, by, settings)
    return (compute_report(facts, buckets, settings, now.timestamp(), queue),
            compute_agent_report(facts.work, buckets, queue))


def day_agent_report(engine: Engine, day: date, by: str, settings: ReportSettings,
                     queue: str | None = None) -> list[AgentFigures]:
    """Per agent for `day` by "hour" or "day": handled calls, AHT, hold, transfers."""
    buckets, facts = day_facts(engine, day, by, settings)
    return compute_agent_report(facts.work, buckets, queue)


def agents_since(engine: Engine, since: datetime) -> dict[str, AgentFigures]:
    """Each agent's figures over the calls they handled from `since` (the wallboard's day)."""
    with Session(engine) as session:
        rows = session.execute(select(*WORK_COLUMNS).where(
            W.at >= since, W.handled.is_(True))).all()
    work = [work_fact(w) for w in rows]
    return {agent: agent_figures("", agent, [w for w in work if w.agent == agent])
            for agent in sorted({w.agent for w in work})}


def report_json(rows: list[Figures], day: date, by: str, settings: ReportSettings,
                generated_at: datetime,
                agents: list[AgentFigures] | None = None) -> dict[str, Any]:
    out = {"day": day.isoformat(), "by": by, "timezone": settings.timezone,
           "generated_at": generated_at.astimezone(UTC).isoformat(timespec="seconds"),
           "short_abandon_seconds": settings.short_abandon_s,
           "repeat_window_hours": settings.repeat_window_s / 3600.0,
           "rows": [asdict(r) for r in rows]}
    if agents is not None:
        out["agents"] = [asdict(a) for a in agents]
    return out


def report_csv(rows: list[Figures]) -> str:
    """One line per row, the columns of `Figures` in order; empty cells for None."""
    out = io.StringIO()
    names = [f.name for f in fields(Figures)]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(row).items()})
    return out.getvalue()


def parse_day(text: str | None, settings: ReportSettings, now: datetime) -> date:
    """`YYYY-MM-DD`, or today in the business timezone when empty."""
    if not text:
        from zoneinfo import ZoneInfo

        return now.astimezone(ZoneInfo(settings.timezone)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"day {text!r}: give it as YYYY-MM-DD, e.g. 2026-12-01") from None
