"""The supervisor wallboard: live queue and agent state, pushed to the page as it changes.

`/wallboard` (supervisors and admins; `?tv=1` for a wall screen: a tile per queue on one
screen, no scrolling, wallboard_tv.html) is
served here; its live events (`/wallboard/events`, server-sent events) are NOT: they come from
the stream service (`ivr streams`, ivr/live/), a process apart whose event loop holds any
number of open screens while ONE producer computes `board()` once a second for all of them.
A stream served from this Flask app held one web server thread per screen for minutes, and a
dozen screens starved Twilio's webhooks (issue 12). The page opens `stream_events_url()`:
IVR_STREAM_URL's service (another port, the session cookie sent along), else its own origin,
where the TLS proxy routes `/wallboard/events` to the stream service (docs/deployment.md).
This app's own `/wallboard/events` only answers at once: a redirect there, or 404.

The board is sent whenever it changes (checked every second, so a caller joining shows within
about a second) and a heartbeat otherwise; a stream lasts a few minutes and then ends, and the
browser's EventSource reconnects by itself, as it does after a network drop or a restart (the
page shows "reconnecting" meanwhile).

Live state comes from Redis (what the queue engine knows now: callers, agents, callbacks);
today's totals (offered, answered, abandoned, service level, ASA, containment, satisfaction,
calls and handle time per agent) and the last hour per minute (dashboards/history.py) from
the outcome database, read at most every 10 seconds whatever the number of screens. The agent
floor (issue 14) rides along: who has a caller on hold now and how many callers each queue has
on hold (dashboards/floor_board.py, from the floor state), and today's AHT, mean hold,
after-call work and transfer rate per agent and per queue (the reports' definitions). Each
queue's figures are judged against the thresholds in queues.yaml's `wallboard:` section
(dashboards/wallboard_config.py): the board carries a level per figure and alert sentences.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
)

from dashboards.agent_stats import agents_today
from dashboards.auth import require_role, user_engine
from dashboards.floor_board import FloorNow, floor_now
from dashboards.history import DEFAULT_TARGET, last_hour
from dashboards.staffing import forecasts, queue_advice
from dashboards.today import today_figures
from dashboards.wallboard_config import Thresholds, judge, load_thresholds
from ivr.app.services import services
from ivr.config.reporting import load_report_settings
from ivr.domain.announce import describe_wait
from ivr.domain.errors import ConfigError
from ivr.domain.reports import day_buckets
from ivr.domain.staffing_advice import Forecast, as_dict
from ivr.store.floor import FloorStore
from ivr.store.queue_stats import QueueSnapshot
from ivr.store.reports import parse_day

bp = Blueprint("wallboard", __name__, template_folder="templates", static_folder="static/vendor",
               static_url_path="/static/vendor")
log = logging.getLogger(__name__)
STREAM_PATH = "/wallboard/events"
SLOW_EVERY = 10.0  # seconds: the database is read at most this often, whatever the screens
ROTATE_SECONDS = 12  # TV: pages of queues (more than fit on the screen) take turns this often


def thresholds() -> dict[str, Thresholds]:
    """Per-queue thresholds from queues.yaml, read once per app. A wrong section is logged
    and the defaults are used (the page says so: `threshold_error`)."""
    ext = current_app.extensions
    if "ivr_wallboard_thresholds" not in ext:
        svc = services()
        names = sorted(svc.queue_engine.queues) if svc.queue_engine else []
        try:
            ext["ivr_wallboard_thresholds"] = load_thresholds(svc.config.queues_file, names)
            ext["ivr_wallboard_threshold_error"] = None
        except ConfigError as exc:
            log.error("%s", exc)
            ext["ivr_wallboard_thresholds"] = {q: Thresholds() for q in names}
            ext["ivr_wallboard_threshold_error"] = str(exc)
    return ext["ivr_wallboard_thresholds"]


def _queue_row(name: str, now: float, today: dict[str, Any], limits: Thresholds,
               forecast: Forecast | None, on_hold: int = 0) -> dict[str, Any]:
    svc = services()
    engine, handoff = svc.queue_engine, svc.handoff
    assert engine is not None  # board() checked both
    assert handoff is not None
    read = engine.snapshot(name, now)
    snap = read.as_dict()
    seconds, doubt = handoff.estimate_from(read, now)  # one Redis read per queue, not two
    callbacks = engine.callbacks.pending(name, now)
    day = (today.get("queues") or {}).get(name) or {}
    row = {
        "queue": name, "waiting": snap["waiting"],
        "longest_wait": round(float(snap["longest_wait"]), 1),  # type: ignore[arg-type]
        "new_caller_hears": describe_wait(seconds, doubt),
        "agents": snap["agents_by_state"], "callbacks_pending": len(callbacks),
        "callbacks_overdue": sum(1 for c in callbacks if c["state"] == "waiting"
                                 and c["waiting"] > limits.callback_overdue),
        "offered": day.get("offered", 0), "answered": day.get("answered", 0),
        "abandoned": day.get("abandoned", 0), "service_level": day.get("service_level"),
        "abandon_rate": _rate(day.get("abandoned", 0), day.get("answered", 0)),
        "asa": day.get("asa"), "service_target": _target(name),
        # the agent floor (issue 14): callers on hold now; today's AHT, mean hold, transfers
        "on_hold": on_hold, "aht": day.get("aht"), "hold": day.get("hold"),
        "transfer_rate": day.get("transfer_rate"),
        "ranges": {k: day.get(k) for k in ("in_range_share", "range_width", "ranges_told")},
        "estimates": handoff.estimate_accuracy(name, datetime.fromtimestamp(now, UTC)),
        "staffing": _staffing(name, read, forecast, limits),
    }
    row["levels"], row["alerts"] = judge(row, limits)
    return row


def _staffing(name: str, snap: QueueSnapshot, forecast: Forecast | None,
              limits: Thresholds) -> dict[str, Any] | None:
    """The staffing advisor's card (dashboards/staffing.py): the agents working now against
    the arrival forecast kept with the slow figures; None until the database has answered."""
    engine = services().queue_engine
    if forecast is None or engine is None:
        return None
    return as_dict(queue_advice(engine, name, snap, forecast, limits.service_level_warn))


def _rate(abandoned: int, answered: int) -> float | None:
    return round(abandoned / (answered + abandoned), 3) if answered + abandoned else None


def _target(queue: str) -> float:
    """The queue's service-level target in seconds (queues.yaml `service_level_target`)."""
    engine = services().queue_engine
    cfg = engine.queues.get(queue) if engine is not None else None
    return float(getattr(cfg, "service_level_target", DEFAULT_TARGET))


def _agent_rows(now: float, today: dict[str, Any]) -> list[dict[str, Any]]:
    engine = services().queue_engine
    assert engine is not None
    per_agent = today.get("agents") or {}
    rows = []
    for agent in engine.agents.all():
        detail = engine.agents.detail(agent.id)
        since = int(detail.get("since") or 0) / 1000.0
        done = per_agent.get(agent.id) or {}
        on_call = agent.presence.value in ("ringing", "on_call")  # a call to supervise
        rows.append({"id": agent.id, "name": agent.name, "state": agent.presence.value,
                     "for": round(max(0.0, now - since)) if since else None,
                     "handled": done.get("handled", 0), "aht": done.get("aht"),
                     "hold": done.get("hold"), "transfer_rate": done.get("transfer_rate"),
                     "after_call": done.get("after_call"),
                     "reason": detail.get("reason") or None,
                     "call": (detail.get("member") or None) if on_call else None})
    return rows


def board(now: float) -> dict[str, Any]:
    """Everything the wallboard shows, as plain data (tested without a browser)."""
    svc = services()
    if svc.queue_engine is None or svc.handoff is None:
        return {"queues": [], "agents": [], "at": now, "alerts": []}
    limits = thresholds()
    slow = slow_figures(now, limits)
    today = slow.get("today") or {}
    ahead = slow.get("forecasts") or {}
    agents = _agent_rows(now, today)
    live = _floor_now(agents, now)
    for row in agents:
        row["on_hold"] = live.held_for.get(row["id"])  # seconds the caller has been held
    queues = [_queue_row(name, now, today, limits[name], ahead.get(name),
                         live.held_callers.get(name, 0)) for name in sorted(limits)]
    return {"queues": queues, "agents": agents, "at": now,
            "today": slow.get("today"), "history": slow.get("history"),
            "alerts": [a for q in queues for a in q["alerts"]],
            "thresholds": {q: asdict(t) for q, t in limits.items()}}


def _floor_now(agents: list[dict[str, Any]], now: float) -> FloorNow:
    """Who holds a caller now, from the floor state of the calls agents are on."""
    calls = {a["id"]: a["call"] for a in agents if a["state"] == "on_call" and a["call"]}
    return floor_now(FloorStore(services().redis), calls, now) if calls else FloorNow()


def slow_figures(now: float, limits: dict[str, Thresholds]) -> dict[str, Any]:
    """Today's figures (the reports' business day, dashboards/today.py), calls and handle time
    per agent over the same day, and the last hour, from the database, cached for SLOW_EVERY
    seconds."""
    cache = current_app.extensions.setdefault("ivr_wallboard_slow", {"at": 0.0, "data": {}})
    if now - float(cache["at"]) >= SLOW_EVERY or now < float(cache["at"]):
        at = datetime.fromtimestamp(now, UTC)
        try:
            settings = load_report_settings(services().config.queues_file)
            day = day_buckets(parse_day(None, settings, at), "day", settings.timezone)[0]
            engine = user_engine()
            today = today_figures(engine, at, settings)
            today["agents"] = agents_today(engine, datetime.fromtimestamp(day.start, UTC))
            cache["data"] = {"today": today, "history": last_hour(
                engine, now, sorted(limits), {q: _target(q) for q in limits},
                settings.short_abandon_s),
                "forecasts": forecasts(engine, sorted(limits), services().config.queues_file,
                                       now)}
        except Exception:  # noqa: BLE001 - the database down: live figures still flow
            log.exception("wallboard: the outcome database did not answer")
            cache["data"] = {}
        cache["at"] = now
    return cache["data"]


@bp.get("/wallboard")
@require_role("supervisor")
def page() -> str:
    """The desk view, or with `?tv=1` the wall screen (wallboard_tv.html: tiles, no scrolling,
    pages of queues taking turns every `?rotate=` seconds). TV is dark unless `?theme=light`;
    the desk is light unless `?theme=dark`."""
    limits = thresholds()
    tv, theme = request.args.get("tv") == "1", request.args.get("theme")
    dark = theme == "dark" or (tv and theme != "light")
    return render_template("wallboard_tv.html" if tv else "wallboard.html", dark=dark,
                           rotate=request.args.get("rotate", ROTATE_SECONDS, type=int),
                           stream_events_url=stream_events_url(),
                           thresholds={q: asdict(t) for q, t in limits.items()},
                           threshold_error=current_app.extensions["ivr_wallboard_threshold_error"])


@bp.get("/wallboard/board.json")
@require_role("supervisor")
def board_json() -> Response:
    return Response(json.dumps(board(time.time())), mimetype="application/json")


@bp.get("/wallboard/events")
@require_role("supervisor")
def events() -> Any:
    """Streams are not served here any more (issue 12: each held a web server thread that
    Twilio's webhooks need). Answer at once: a redirect to the stream service when
    IVR_STREAM_URL names it (a page loaded before the change finds it), else 404 saying
    where streams live."""
    stream_url = services().config.stream_url
    if stream_url:
        return redirect(stream_events_url(), code=307)
    abort(404, description="wallboard streams are served by the stream service (ivr streams): "
          "route /wallboard/events to it, or set IVR_STREAM_URL (docs/deployment.md)")


def stream_events_url() -> str:
    """Where the page opens its event stream: IVR_STREAM_URL's service, else this origin (a
    proxy routes the path to the stream service)."""
    return f"{services().config.stream_url or ''}{STREAM_PATH}"
