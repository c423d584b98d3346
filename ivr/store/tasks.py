"""The follow-up worklist in SQL: open tasks from rule proposals, list, assign, close.

Plain functions taking a SQLAlchemy Session (the caller owns the transaction), per
/work/notes/TASKS_SCHEMA.md, so pages, the JSON API, the CLI and other helpers share one
definition. Opening is idempotent: `open_tasks` inserts with ON CONFLICT (rule, call_sid) DO
NOTHING, so a call evaluated again (every event of it re-folds the record) never gets a second
task for the same rule; an existing task only has its voicemail transcript brought up to date.
A task closes only with a disposition; overdue = not closed and past `due_at`.
Must not import Flask or Redis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ivr.domain.errors import Conflict, NotFound
from ivr.domain.followup import TaskProposal
from ivr.store.models import FollowupTaskRow

STATUSES = ("open", "in_progress", "closed")
MAX_DISPOSITION = 64
E164 = re.compile(r"^\+[1-9]\d{7,14}$")  # only a real number can be texted (not anonymous)
CSV_FIELDS = ("id", "call_sid", "caller", "rule", "reason", "priority", "team", "owner",
              "status", "overdue", "due_at", "created_at", "closed_at", "disposition", "notes",
              "recording_sid", "transcript_status", "transcript", "sms_status")


def _when(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone columns; they were stored as UTC."""
    if at is not None and at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at


def open_tasks(session: Session, proposals: Sequence[TaskProposal],
               now: datetime) -> list[FollowupTaskRow]:
    """Open the proposals not yet open (unique rule + call); returns the tasks opened now.
    For tasks that exist, only recording, transcript and transcript status are updated."""
    opened = []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, FollowupTaskRow.__table__)
    for p in proposals:
        stmt = insert(table).values(
            call_sid=p.call_sid, caller=(p.caller or None) and p.caller[:40], rule=p.rule,
            reason=p.reason, priority=p.priority, team=p.team and p.team[:64], status="open",
            due_at=_when(p.due_at), created_at=now, updated_at=now,
            recording_sid=p.recording_sid, transcript=p.transcript,
            transcript_status=p.transcript_status, sms=p.sms,
            sms_status="pending" if p.sms and E164.match(p.caller or "") else None,
        ).on_conflict_do_nothing(index_elements=["rule", "call_sid"]).returning(table.c.id)
        new_id = session.execute(stmt).scalar()
        if new_id is not None:
            opened.append(session.get(FollowupTaskRow, new_id))
        elif p.transcript_status is not None:
            _refresh_transcript(session, p, now)
    return [t for t in opened if t is not None]


def _refresh_transcript(session: Session, p: TaskProposal, now: datetime) -> None:
    session.execute(update(FollowupTaskRow).where(
        FollowupTaskRow.rule == p.rule, FollowupTaskRow.call_sid == p.call_sid,
        (FollowupTaskRow.transcript_status.is_distinct_from(p.transcript_status))
        | (FollowupTaskRow.recording_sid.is_distinct_from(p.recording_sid))).values(
        recording_sid=p.recording_sid, transcript=p.transcript,
        transcript_status=p.transcript_status, updated_at=now))


def list_tasks(session: Session, *, status: str | None = None, team: str | None = None,
               owner: str | None = None, caller: str | None = None,
               overdue_at: datetime | None = None, limit: int = 200) -> list[FollowupTaskRow]:
    """Tasks, most urgent first (priority, then due time). `status` may be `open` (meaning
    not closed: open or in progress), `in_progress` or `closed`; `overdue_at`: only tasks
    not closed and due before that time."""
    query = select(FollowupTaskRow)
    if status == "open":
        query = query.where(FollowupTaskRow.status != "closed")
    elif status:
        query = query.where(FollowupTaskRow.status == status)
    for column, value in ((FollowupTaskRow.team, team), (FollowupTaskRow.owner, owner),
                          (FollowupTaskRow.caller, caller)):
        if value:
            query = query.where(column == value)
    if overdue_at is not None:
        query = query.where(FollowupTaskRow.status != "closed", FollowupTaskRow.due_at < overdue_at)
    query = query.order_by(FollowupTaskRow.priority, FollowupTaskRow.due_at, FollowupTaskRow.id)
    return list(session.execute(query.limit(max(1, min(limit, 5000)))).scalars())


def open_tasks_for_caller(session: Session, caller: str) -> list[FollowupTaskRow]:
    """A number's tasks not yet closed (the agent console shows them with the call)."""
    return list_tasks(session, status="open", caller=caller)


def get_task(session: Session, task_id: int, *, lock: bool = False) -> FollowupTaskRow:
    query = select(FollowupTaskRow).where(FollowupTaskRow.id == task_id)
    task = session.execute(query.with_for_update() if lock else query).scalar()
    if task is None:
        raise NotFound(f"no follow-up task {task_id}; list them with `ivr tasks list` or "
                       "GET /api/tasks")
    return task


def assign_task(session: Session, task_id: int, owner: str, *, by: str,
                now: datetime | None = None) -> FollowupTaskRow:
    """Give the task to `owner` (status in_progress). `by` is noted for the audit trail."""
    owner = (owner or "").strip()[:64]
    if not owner:
        raise ValueError("assign needs an owner (a user name or agent id)")
    task = get_task(session, task_id, lock=True)
    if task.status == "closed":
        raise Conflict(f"task {task_id} is closed ({task.disposition}); it cannot be assigned")
    now = now or datetime.now(UTC)
    task.owner, task.status, task.updated_at = owner, "in_progress", now
    task.notes = _noted(task.notes, now, f"assigned to {owner} by {by}")
    return task


def close_task(session: Session, task_id: int, disposition: str, notes: str | None = None,
               *, by: str, now: datetime | None = None) -> FollowupTaskRow:
    """Close with a disposition (required: a task never disappears without saying why)."""
    disposition = (disposition or "").strip()
    if not disposition or len(disposition) > MAX_DISPOSITION:
        raise ValueError(f"closing needs a disposition (1-{MAX_DISPOSITION} characters), "
                         "e.g. called_back, resolved, no_answer, duplicate")
    task = get_task(session, task_id, lock=True)
    if task.status == "closed":
        raise Conflict(f"task {task_id} is already closed ({task.disposition})")
    now = now or datetime.now(UTC)
    task.status, task.disposition, task.closed_at, task.updated_at = (
        "closed", disposition, now, now)
    task.owner = task.owner or by
    text = f"closed by {by}: {disposition}" + (f": {notes.strip()}" if notes and notes.strip()
                                               else "")
    task.notes = _noted(task.notes, now, text)
    return task


def _noted(notes: str | None, now: datetime, line: str) -> str:
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ((notes + "\n") if notes else "") + f"{stamp} {line}"[:4000]


def is_overdue(task: FollowupTaskRow, now: datetime) -> bool:
    due = _aware(task.due_at)
    return task.status != "closed" and due is not None and due < now


def _iso(at: datetime | None) -> str | None:
    at = _aware(at)
    return at.isoformat() if at is not None else None


def task_json(task: FollowupTaskRow, now: datetime) -> dict[str, Any]:
    """The task as the JSON API shows it (TASKS_SCHEMA.md), plus transcript and SMS status."""
    return {
        "id": task.id, "call_sid": task.call_sid, "caller": task.caller, "rule": task.rule,
        "reason": task.reason, "priority": task.priority, "team": task.team,
        "owner": task.owner, "status": task.status, "due_at": _iso(task.due_at),
        "created_at": _iso(task.created_at), "closed_at": _iso(task.closed_at),
        "disposition": task.disposition, "notes": task.notes,
        "overdue": is_overdue(task, now), "transcript": task.transcript,
        "transcript_status": task.transcript_status, "recording_sid": task.recording_sid,
        "sms_status": task.sms_status,
    }
