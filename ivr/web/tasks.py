"""JSON API and CSV export for the follow-up worklist and the call records.

    GET  /api/tasks?status=&team=&owner=&caller=&overdue=1&limit=  -> {"tasks": [task...]}
    POST /api/tasks/<id>/assign {"owner": "alice"}                -> the task
    POST /api/tasks/<id>/close  {"disposition": "called_back", "notes": "..."} -> the task
    GET  /api/tasks.csv (same filters)
    GET  /api/calls?caller=&outcome=&queue=&since=ISO&limit=       -> {"calls": [call...]}
    GET  /api/calls.csv (same filters)

Signed in (dashboards/auth.py): agents, supervisors and admins list, assign and close tasks
and list calls; the CSV exports are for supervisors and admins. An agent assigns tasks only
to themselves, and takes or closes only tasks that are theirs or nobody's. POSTs need the session's
CSRF token (`X-CSRF-Token`). Bodies may be JSON or a form. Errors are JSON `{"error": ...}`:
400 bad body, 403 not yours, 404 no such task, 409 already closed. `owner=me` means the
signed-in user. Task JSON: ivr/store/tasks.py `task_json` (TASKS_SCHEMA.md).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.auth import current_user, require_role, user_engine
from ivr.app.services import services
from ivr.domain.errors import Conflict, NotFound
from ivr.store import models as m
from ivr.store import tasks
from ivr.store.call_records import floor_summaries
from ivr.store.caller_summary import config_summary_ttl, refresh_caller_summary

bp = Blueprint("tasks_api", __name__, url_prefix="/api")
CALL_FIELDS = ("call_sid", "caller", "dialed", "flow", "started_at", "ended_at", "duration_s",
               "end_status", "queue", "wait_s", "answered", "abandoned", "agent", "talk_s",
               "self_service_contained", "outcome", "hold_count", "hold_s", "after_call_s",
               "transferred")
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d.]+$")


def _session() -> Session:
    return Session(user_engine(), expire_on_commit=False)


def _me() -> str:
    user = current_user()
    return user.username if user else ""


def _is_agent() -> bool:
    user = current_user()
    return user is not None and user.role == "agent"


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


def _limit(default: int = 200) -> int:
    try:
        return max(1, min(int(request.args.get("limit", default)), 5000))
    except ValueError:
        return default


def _task_filters() -> dict[str, Any]:
    args = request.args
    owner = args.get("owner") or None
    return {"status": args.get("status") or None, "team": args.get("team") or None,
            "owner": _me() if owner == "me" else owner, "caller": args.get("caller") or None,
            "overdue_at": datetime.now(UTC) if args.get("overdue") in ("1", "true") else None,
            "limit": _limit()}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else request.form.to_dict()


@bp.get("/tasks")
@require_role("agent", "supervisor")
def list_tasks() -> Response:
    now = datetime.now(UTC)
    with _session() as session:
        found = tasks.list_tasks(session, **_task_filters())
        handled = floor_summaries(session, [t.call_sid for t in found if t.call_sid])
        return jsonify(tasks=[{**tasks.task_json(t, now), "handling": handled.get(t.call_sid)}
                              for t in found])



@bp.post("/tasks/<int:task_id>/assign")
@require_role("agent", "supervisor")
def assign(task_id: int) -> Response | tuple[Response, int]:
    me, agent = _me(), _is_agent()  # read before the transaction: one SQLite writer at a time
    owner = str(_body().get("owner") or me).strip()
    if agent and owner != me:
        return _error("agents assign tasks only to themselves; ask a supervisor", 403)

    def run(session: Session) -> m.FollowupTaskRow:
        # Checked under the row lock: an agent takes only a task that is nobody's or already
        # theirs, never one another agent owns (issue 12); supervisors reassign any.
        task = tasks.get_task(session, task_id, lock=True)
        if agent and task.owner not in (None, me):
            raise PermissionError(f"task {task_id} belongs to {task.owner}; only a supervisor "
                                  "may give it to someone else")
        return tasks.assign_task(session, task_id, owner, by=me)

    return _change(task_id, run)


@bp.post("/tasks/<int:task_id>/close")
@require_role("agent", "supervisor")
def close(task_id: int) -> Response | tuple[Response, int]:
    body = _body()
    disposition, notes = str(body.get("disposition") or ""), body.get("notes")
    me, agent = _me(), _is_agent()  # before the transaction (one SQLite writer at a time)

    def run(session: Session) -> m.FollowupTaskRow:
        task = tasks.get_task(session, task_id, lock=True)
        if agent and task.owner not in (None, me):
            raise PermissionError(f"task {task_id} belongs to {task.owner}; only its owner or "
                                  "a supervisor may close it")
        closed = tasks.close_task(session, task_id, disposition,
                                  str(notes)[:2000] if notes else None, by=me)
        _refresh_caller(session, closed.caller)
        return closed

    return _change(task_id, run)


def _refresh_caller(session: Session, caller: str | None) -> None:
    """The caller's summary for flows counts open tasks (ivr/store/caller_summary.py): update
    it now, so their next call is not put ahead of the line for a task just closed."""
    session.flush()
    svc = services()
    refresh_caller_summary(session, svc.redis, caller, datetime.now(UTC),
                           config_summary_ttl(svc.config))


def _change(task_id: int, run: Any) -> Response | tuple[Response, int]:
    try:
        with _session() as session, session.begin():
            task = run(session)
            shown = tasks.task_json(task, datetime.now(UTC))
    except NotFound as exc:
        return _error(str(exc), 404)
    except Conflict as exc:
        return _error(str(exc), 409)
    except PermissionError as exc:
        return _error(str(exc), 403)
    except ValueError as exc:
        return _error(str(exc), 400)
    return jsonify(shown)


@bp.get("/tasks.csv")
@require_role("supervisor")
def tasks_csv() -> Response:
    now = datetime.now(UTC)
    with _session() as session:
        rows = [tasks.task_json(t, now) for t in tasks.list_tasks(session, **_task_filters())]
    return _csv("followup-tasks.csv", tasks.CSV_FIELDS, rows)


def _calls(session: Session) -> list[m.CallRow]:
    args = request.args
    query = select(m.CallRow)
    for column, name in ((m.CallRow.caller, "caller"), (m.CallRow.outcome, "outcome"),
                         (m.CallRow.queue, "queue")):
        if args.get(name):
            query = query.where(column == args[name])
    since = args.get("since")
    if since:
        query = query.where(m.CallRow.started_at >= _parse_time(since))
    query = query.order_by(m.CallRow.started_at.desc().nulls_last(), m.CallRow.call_sid)
    return list(session.execute(query.limit(_limit())).scalars())


def _parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def call_json(call: m.CallRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CALL_FIELDS:
        value = getattr(call, name)
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        out[name] = value
    return out


def call_record_json(call: m.CallRow) -> dict[str, Any]:
    """A call for the JSON API: its fields and the agent floor's lists (agents, transfers,
    monitoring, recordings, holds per agent: ivr/store/call_records.floor_json); the CSV keeps
    the flat fields only."""
    return {**call_json(call), "floor": call.floor}


@bp.get("/calls")
@require_role("agent", "supervisor")
def list_calls() -> Response | tuple[Response, int]:
    try:
        with _session() as session:
            return jsonify(calls=[call_record_json(c) for c in _calls(session)])
    except ValueError:
        return _error("since must be an ISO time, e.g. 2026-12-01T09:00:00Z", 400)


@bp.get("/calls.csv")
@require_role("supervisor")
def calls_csv() -> Response | tuple[Response, int]:
    try:
        with _session() as session:
            rows = [call_json(c) for c in _calls(session)]
    except ValueError:
        return _error("since must be an ISO time, e.g. 2026-12-01T09:00:00Z", 400)
    return _csv("calls.csv", CALL_FIELDS, rows)


def _cell(value: Any) -> str:
    """Text for a spreadsheet: a cell a spreadsheet would run as a formula (=, +, -, @ first,
    e.g. a caller's speech or a note) is prefixed with ' ; numbers and +E.164 stay as they are."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _csv(name: str, fields: Sequence[str], rows: Iterable[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(f)) for f in fields])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
