"""The agent's own presence as the softphone and the after-call work see it
(docs/agent-floor.md, Agent state).

    POST /agent/device {"state": "registered"|"unregistered"}  the console, on the Voice
         SDK's registered / unregistered events: a softphone (`client:`) agent is offered
         calls only while registered and refreshed within IVR_DEVICE_STALE_SECONDS
    POST /agent/wrapup/end                       end my after-call work now
    POST /agent/wrapup/extend {"seconds": N}     more after-call work (IVR_WRAP_UP_MAX_EXTEND
                                                 in all)

Each acts for the signed-in user only (never `?agent=`): an agent cannot register, or end the
wrap-up of, a colleague. Answers JSON: 200 with the state now, 400 bad body, 404 when the user
is not an agent in queues.yaml, 409 when the move is not possible now (not in wrap-up, a
required disposition missing, the extension used up), 503 when queue routing is off.

`console_state` is what `/agent/context.json` adds from here (its poll refreshes the device):
`wrap_up` ({"until", "disposition_required", ...} or null), `device` and the `reason` of a
presence the system set (away: "missed 2 calls").
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashboards.auth import current_user, require_role
from ivr.app.services import services
from ivr.domain.errors import Conflict, NotFound
from ivr.store.redis_queue import QueueService

bp = Blueprint("agent_presence", __name__)


def console_state(engine: QueueService, agent: str, detail: dict[str, str],
                  now: float) -> dict[str, Any]:
    """The presence fields context.json adds; its poll is the device's refresh."""
    device = detail.get("device", "")
    if device == "registered" and detail.get("address", "").startswith("client:"):
        device = engine.agents.device(agent, "", now)
    wrap = engine.wrap_up(agent)
    return {"wrap_up": wrap.as_dict() if wrap else None, "device": device or None,
            "reason": detail.get("reason") or None}


def _me() -> str:
    user = current_user()
    return user.username if user is not None else ""


def _engine() -> QueueService | None:
    return services().queue_engine


def _error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.post("/agent/device")
@require_role("agent", "supervisor")
def device() -> Response:
    engine = _engine()
    if engine is None:
        return _error("queue routing is off", 503)
    state = (request.get_json(silent=True) or {}).get("state")
    if state not in ("registered", "unregistered"):
        return _error('send JSON {"state": "registered"|"unregistered"}', 400)
    me = _me()
    try:
        engine.agents.get(me)
        stored = engine.agents.device(me, state, time.time())
    except NotFound:
        return _error(f"no agent {me!r} in queues.yaml", 404)
    if stored == "registered":
        engine.agent_ready(me)  # an available agent can take a caller waiting now
    return jsonify(ok=True, agent=me, device=stored)


@bp.post("/agent/wrapup/end")
@require_role("agent", "supervisor")
def wrapup_end() -> Response:
    engine = _engine()
    if engine is None:
        return _error("queue routing is off", 503)
    try:
        ended = engine.end_wrap_up_early(_me(), time.time())
    except Conflict as exc:
        return _error(str(exc), 409)
    return jsonify(ok=True, ended=ended.call, presence="available")


@bp.post("/agent/wrapup/extend")
@require_role("agent", "supervisor")
def wrapup_extend() -> Response:
    engine = _engine()
    if engine is None:
        return _error("queue routing is off", 503)
    seconds = (request.get_json(silent=True) or {}).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return _error('send JSON {"seconds": N}, N between 1 and 3600', 400)
    try:
        wrap = engine.extend_wrap_up(_me(), float(seconds), time.time())
    except ValueError as exc:
        return _error(str(exc), 400)
    except Conflict as exc:
        return _error(str(exc), 409)
    return jsonify(ok=True, wrap_up=wrap.as_dict())
