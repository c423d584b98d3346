"""Admin page for operations: the emergency closure switch and other operator flags, and the
business hours and holidays every flow and queue runs on, with their status right now.

Flags live in Redis (ivr/store/operator_flags.py) and are read at the start of every call and by
the queues' opening-hours check, so a switch takes effect on the next call in every process.
Hours and holidays are part of the flow files and queues.yaml: they are changed in the flow
editor (validated and versioned like any flow change), and shown here with their status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for

from dashboards.admin_support import check_csrf, csrf_token, require_role
from ivr.app.services import services
from ivr.config.calendars import load_calendars
from ivr.config.queues import load_queues
from ivr.domain.errors import ConfigError
from ivr.domain.hours import DAYS, Closure, Schedule, next_closures, status
from ivr.store.operator_flags import get_flags, set_flag

bp = Blueprint("admin_ops", __name__, url_prefix="/admin")

CLOSURES_SHOWN = 5  # the next closures listed per schedule (calendars.yaml)
KNOWN_FLAGS = {
    "emergency_closed": "Emergency closure: every schedule reports closed, flows play their "
                        "emergency message and take messages.",
    "always_open": "Open every schedule (holidays included) until switched off.",
    "storm_mode": "Storm mode: flows that read flags.storm_mode announce the outage first.",
}


def _schedule_rows(now: datetime, flags: dict[str, str]) -> list[dict[str, Any]]:
    svc = services()
    rows = []
    for flow_id in svc.flows.flow_ids():
        flow = svc.flows.flow_by_id(flow_id)
        for name, schedule in flow.schedules.items():
            rows.append(_row(f"flow {flow_id}", name, schedule, now, flags, flow_id))
    if svc.config.queues_file.exists():
        try:
            setup = load_queues(svc.config.queues_file,
                                calendars=load_calendars(svc.config.calendars_file))
        except ConfigError as exc:  # refused since start: say so, the live engine keeps its
            flash(f"queues.yaml or calendars.yaml is refused (the running queues keep the "
                  f"settings they started with): {exc}", "error")
            return rows
        for name, schedule in setup.schedules.items():
            rows.append(_row("queues.yaml", name, schedule, now, flags, None))
    return rows


def _row(where: str, name: str, schedule: Schedule, now: datetime, flags: dict[str, str],
         flow_id: str | None) -> dict[str, Any]:
    weekly = [(DAYS[d].title(), ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in ranges))
              for d, ranges in sorted(schedule.weekly.items())]
    today = now.astimezone(ZoneInfo(schedule.timezone)).date()
    return {"where": where, "name": name, "timezone": schedule.timezone, "weekly": weekly,
            "calendar": schedule.calendar.name if schedule.calendar else None,
            "closures": [(day, _closure_text(c)) for day, c in next_closures(schedule, today,
                                                                              CLOSURES_SHOWN)],
            "status": status(schedule, now, flags),
            "flag": schedule.emergency_flag, "flow": flow_id}


def _closure_text(closure: Closure) -> str:
    """'Christmas Day' or 'Christmas Eve: closes 13:00'."""
    if closure.whole_day:
        return closure.name
    hours = " ".join(part for part in (f"opens {closure.open:%H:%M}" if closure.open else "",
                                       f"closes {closure.close:%H:%M}" if closure.close else "")
                     if part)
    return f"{closure.name}: {hours}"


@bp.get("/operations")
@require_role("admin")
def operations() -> Any:
    flags = get_flags(services().redis)
    now = datetime.now(UTC)
    return render_template("admin/operations.html", flags=flags, known=KNOWN_FLAGS,
                           schedules=_schedule_rows(now, flags), now=now, csrf=csrf_token())


@bp.post("/operations/flags")
@require_role("admin")
def set_operator_flag() -> Any:
    check_csrf()
    name = request.form.get("name", "").strip()
    value = "on" if request.form.get("value") == "on" else None
    try:
        set_flag(services().redis, name, value)
    except ConfigError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin_ops.operations"), 303)
    flash(f"{name} is now {'ON' if value else 'off'} for every new call.", "ok")
    return redirect(url_for("admin_ops.operations"), 303)
