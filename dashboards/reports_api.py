"""Report JSON and CSV for supervisors: `GET /api/reports?day=YYYY-MM-DD&by=hour|day&queue=Q`
and `GET /api/reports.csv` (same parameters). Figures and definitions: ivr/domain/reports.py
and docs/reports.md; the same rows as `ivr report`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashboards.auth import require_role, user_engine
from ivr.errors import ConfigError
from ivr.services import services
from ivr.store.reports import day_report, load_report_settings, parse_day, report_csv, report_json

bp = Blueprint("reports_api", __name__)


def _rows() -> tuple[Any, ...]:
    settings = load_report_settings(services().config.queues_file)
    now = datetime.now(UTC)
    day = parse_day(request.args.get("day"), settings, now)
    by = request.args.get("by") or "day"
    if by not in ("hour", "day"):
        raise ConfigError(f"by={by!r}: use by=hour or by=day")
    queue = (request.args.get("queue") or "").strip()[:64] or None
    rows = day_report(user_engine(), day, by, settings, now, queue)
    return rows, day, by, settings, now


@bp.errorhandler(ConfigError)
def _bad_parameters(exc: ConfigError) -> Any:
    """A bad day, period or queue (or report settings) answers 400 with the fix, as JSON."""
    return jsonify(error=str(exc)), 400


@bp.get("/api/reports")
@require_role("supervisor")
def report() -> Any:
    rows, day, by, settings, now = _rows()
    return jsonify(report_json(rows, day, by, settings, now))


@bp.get("/api/reports.csv")
@require_role("supervisor")
def report_as_csv() -> Any:
    rows, day, by, _, _ = _rows()
    return Response(report_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="report-{day.isoformat()}-{by}.csv"'})
