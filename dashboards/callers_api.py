"""`GET /api/callers/<number>`: a caller's history for agents, supervisors and admins.

The agent console calls it beside a call: the caller's last calls (when, flow, queue, outcome,
wait, agent, disposition, survey answers), open follow-up tasks and survey results; `limit`
(1-50, default 5) sets how many calls. The number may be given in any common form
(`+14155550100`, `4155550100`, `+1 (415) 555-0100`, URL-encoded). Shape: docs/reports.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy.orm import Session

from dashboards.auth import require_role, user_engine
from ivr.store.caller_history import caller_history

bp = Blueprint("callers_api", __name__)


@bp.get("/api/callers/<path:number>")
@require_role("agent", "supervisor")
def history(number: str) -> Any:
    number = number.strip()[:40]
    if not number:
        return jsonify(error="give the caller's number, e.g. /api/callers/+14155550100"), 400
    try:
        limit = int(request.args.get("limit") or 5)
    except ValueError:
        return jsonify(error="limit must be a whole number from 1 to 50"), 400
    with Session(user_engine()) as session:
        found = caller_history(session, number, now=datetime.now(UTC), limit=limit)
    return jsonify(found)
