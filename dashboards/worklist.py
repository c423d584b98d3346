"""The follow-up worklist page: tasks to act on, filtered by status, team, owner and overdue,
taken ("assign to me"), given to someone (supervisors) and closed with a disposition.

`/tasks` (agents, supervisors, admins) is a server-rendered shell; its script reads the
filters from the page's own query string (so a filtered view can be bookmarked) and talks to
the JSON API in ivr/web/tasks.py (`GET /api/tasks`, `POST /api/tasks/<id>/assign|close`),
which owns the rules (an agent assigns only to themselves and closes only their own or
unowned tasks). Everything from callers (reason, notes, voicemail transcripts) is put on the
page as text, never HTML.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from dashboards.auth import current_user, require_role
from ivr.app.services import services

bp = Blueprint("worklist", __name__, template_folder="templates")
CLOSE_DISPOSITIONS = ("called_back", "resolved", "no_answer", "wrong_number", "duplicate")
STATUSES = (("open", "Not closed"), ("in_progress", "In progress"), ("closed", "Closed"),
            ("", "Any"))


def _people() -> list[tuple[str, str]]:
    """(id, name) of the agents in queues.yaml: who a task may be given to."""
    engine = services().queue_engine
    return sorted((a.id, a.name) for a in engine.agents.all()) if engine is not None else []


@bp.get("/tasks")
@require_role("agent", "supervisor")
def page() -> str:
    engine = services().queue_engine
    user = current_user()
    args = request.args
    return render_template(
        "worklist.html", teams=sorted(engine.queues) if engine is not None else [],
        people=_people(), statuses=STATUSES, dispositions=CLOSE_DISPOSITIONS,
        me=user.username if user else "", supervisor=bool(user and user.has_role("supervisor")),
        chosen={"status": args.get("status", "open"), "team": args.get("team", ""),
                "owner": args.get("owner", ""), "overdue": args.get("overdue") == "1"})
