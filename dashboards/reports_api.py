"""Report JSON and CSV for supervisors: `GET /api/reports?day=YYYY-MM-DD&by=hour|day&queue=Q`
and `GET /api/reports.csv` (same parameters). Figures and definitions: ivr/domain/reports.py
and docs/reports.md; the same rows as `ivr report`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashboards.auth import require_role, user_engine
from ivr.app.services import services
from ivr.config.reporting import load_report_settings
from ivr.domain.errors import ConfigError, NotFound
from ivr.domain.reports import day_buckets
from ivr.store.flow_analytics import flow_figures, flows_csv, flows_json
from ivr.store.reports import day_reports, parse_day, report_csv, report_json

bp = Blueprint("reports_api", __name__)


def _rows() -> tuple[Any, ...]:
    settings = load_report_settings(services().config.queues_file)
    now = datetime.now(UTC)
    day = parse_day(request.args.get("day"), settings, now)
    by = request.args.get("by") or "day"
    if by not in ("hour", "day"):
        raise ConfigError(f"by={by!r}: use by=hour or by=day")
    queue = (request.args.get("queue") or "").strip()[:64] or None
    rows, agents = day_reports(user_engine(), day, by, settings, now, queue)
    return rows, day, by, settings, now, agents


@bp.errorhandler(ConfigError)
def _bad_parameters(exc: ConfigError) -> Any:
    """A bad day, period or queue (or report settings) answers 400 with the fix, as JSON."""
    return jsonify(error=str(exc)), 400


@bp.get("/api/reports")
@require_role("supervisor")
def report() -> Any:
    rows, day, by, settings, now, agents = _rows()
    return jsonify(report_json(rows, day, by, settings, now, agents))


@bp.get("/api/reports.csv")
@require_role("supervisor")
def report_as_csv() -> Any:
    rows, day, by, _, _, _ = _rows()
    return Response(report_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="report-{day.isoformat()}-{by}.csv"'})


def _flow_period() -> tuple[str, Any, Any]:
    """?flow=ID&day=YYYY-MM-DD&days=N: the flow's calls over N business days ending that day."""
    from datetime import timedelta


    flow = (request.args.get("flow") or "").strip()[:100]
    if not flow:
        raise ConfigError("flow=ID is required (the flow file's `flow:`)")
    try:
        days = int(request.args.get("days") or 1)
    except ValueError:
        raise ConfigError("days=N: a whole number of days, 1 to 366") from None
    if not 1 <= days <= 366:
        raise ConfigError("days=N: a whole number of days, 1 to 366")
    settings = load_report_settings(services().config.queues_file)
    last = parse_day(request.args.get("day"), settings, datetime.now(UTC))
    first = day_buckets(last - timedelta(days=days - 1), "day", settings.timezone)[0]
    end = day_buckets(last, "day", settings.timezone)[0]
    return flow, datetime.fromtimestamp(first.start, UTC), datetime.fromtimestamp(end.end, UTC)


def _flow_rows() -> tuple[str, Any, Any, Any]:
    flow, start, end = _flow_period()
    try:
        live = services().flows.flow_by_id(flow)
        types = {nid: n.type_name for nid, n in live.nodes.items()}
    except NotFound:
        types = {}  # a flow no longer live: its history still reads
    return flow, start, end, flow_figures(user_engine(), flow, start, end, types)


@bp.get("/api/reports/flows")
@require_role("supervisor")
def flows_report() -> Any:
    flow, start, end, rows = _flow_rows()
    return jsonify(flows_json(rows, flow, start, end))


@bp.get("/api/reports/flows.csv")
@require_role("supervisor")
def flows_report_csv() -> Any:
    flow, start, _, rows = _flow_rows()
    return Response(flows_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="flow-{flow}-{start.date()}.csv"'})
