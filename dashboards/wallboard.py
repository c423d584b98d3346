"""The supervisor wallboard: live queue and agent state over server-sent events.

`/wallboard` (supervisors and admins; `?tv=1` for a wall screen: large type, no controls) and
`/wallboard/events`, an SSE stream that sends the board whenever it changes (checked every
second, so a caller joining shows within about a second) and a heartbeat otherwise. A stream
lasts a few minutes and then ends; the browser's EventSource reconnects by itself, as it does
after a network drop or a server restart (the page shows "reconnecting" meanwhile). Each
stream holds one server thread: size gunicorn's threads for the number of wall screens.

Live state comes from Redis (what the queue engine knows now); today's totals (offered,
answered, abandoned, service level, ASA, containment, satisfaction) from the outcome database
(dashboards/today.py), read at most every 10 seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context

from dashboards.auth import require_role
from ivr.domain.announce import describe_wait
from ivr.services import services

bp = Blueprint("wallboard", __name__, template_folder="templates")
STREAM_SECONDS = 300
HEARTBEAT = 15


def board(now: float) -> dict[str, Any]:
    """Everything the wallboard shows, as plain data (tested without a browser)."""
    svc = services()
    engine, handoff = svc.queue_engine, svc.handoff
    if engine is None or handoff is None:
        return {"queues": [], "agents": [], "at": now}
    queues = []
    for name in sorted(engine.queues):
        read = engine.snapshot(name, now)
        snap = read.as_dict()
        seconds, doubt = handoff.estimate_from(read, now)  # one Redis read per queue, not two
        answered, abandoned = int(snap["answered"]), int(snap["abandoned"])  # type: ignore[call-overload]
        queues.append({
            "queue": name, "waiting": snap["waiting"],
            "longest_wait": round(float(snap["longest_wait"]), 1),  # type: ignore[arg-type]
            "new_caller_hears": describe_wait(seconds, doubt),
            "agents": snap["agents_by_state"], "callbacks_pending": snap["callbacks_pending"],
            "answered": answered, "abandoned": abandoned,
            "abandon_rate": round(abandoned / (answered + abandoned), 3)
            if answered + abandoned else None,
            "asa": round(float(snap["answered_wait_total"]) / answered, 1)  # type: ignore[arg-type]
            if answered else None,
            "estimates": handoff.estimate_accuracy(name, datetime.fromtimestamp(now, UTC)),
        })
    agents = []
    for agent in engine.agents.all():
        detail = engine.agents.detail(agent.id)
        since = int(detail.get("since") or 0) / 1000.0
        agents.append({"id": agent.id, "name": agent.name, "state": agent.presence.value,
                       "for": round(max(0.0, now - since)) if since else None})
    return {"queues": queues, "agents": agents, "at": now, "today": today(now)}


_TODAY: dict[str, Any] = {"at": 0.0, "data": None}
TODAY_EVERY = 10.0  # seconds: the database is read at most this often, whatever the screens


def today(now: float) -> dict[str, Any] | None:
    """Today's figures from the outcome database, cached for TODAY_EVERY seconds."""
    from dashboards.auth import user_engine
    from dashboards.today import today_figures
    from ivr.store.reports import load_report_settings

    if now - float(_TODAY["at"]) >= TODAY_EVERY:
        try:
            settings = load_report_settings(services().config.queues_file)  # business day
            _TODAY["data"] = today_figures(user_engine(), datetime.fromtimestamp(now, UTC),
                                           settings)
        except Exception:  # noqa: BLE001 - the database down: live figures still flow
            _TODAY["data"] = None
        _TODAY["at"] = now
    return _TODAY["data"]  # type: ignore[return-value]


@bp.get("/wallboard")
@require_role("supervisor")
def page() -> str:
    return render_template("wallboard.html", tv=request.args.get("tv") == "1")


@bp.get("/wallboard/events")
@require_role("supervisor")
def events() -> Response:
    def stream() -> Iterator[str]:
        started, last, last_sent = time.monotonic(), "", 0.0
        yield "retry: 2000\n\n"
        while time.monotonic() - started < STREAM_SECONDS:
            data = board(time.time())
            shown = json.dumps({k: v for k, v in data.items() if k != "at"}, sort_keys=True)
            if shown != last:
                last, last_sent = shown, time.monotonic()
                yield f"data: {json.dumps(data)}\n\n"
            elif time.monotonic() - last_sent > HEARTBEAT:
                last_sent = time.monotonic()
                yield ": heartbeat\n\n"
            time.sleep(1.0)

    return Response(stream_with_context(stream()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
