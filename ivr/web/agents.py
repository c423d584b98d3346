"""JSON API for agent presence (the agent page and supervisors use it).

    GET  /api/agents  -> {"agents": [{id, name, address, skills, presence, since}]}
    POST /api/agents/<id>/presence {"state": "available"|"break"|"offline"} -> the agent

Errors are 4xx JSON `{"error": "..."}` saying what to fix: 400 bad body or state, 404 unknown
agent, 409 while the agent is ringing or on a call. The QueueService is built once per app
from the app's Redis connection and queues.yaml, and kept in `app.extensions`.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ivr.errors import Conflict, NotFound

bp = Blueprint("agents", __name__, url_prefix="/api/agents")


def queue_service() -> Any:
    ext = current_app.extensions
    svc = ext.get("ivr_queue_service")
    if svc is None:
        services = ext["ivr"]
        svc = getattr(services, "queue_engine", None)
        if svc is None or not hasattr(svc, "agent_presence"):
            from ivr.queues import build_queue_service

            svc = build_queue_service(services.config, services.redis)
        ext["ivr_queue_service"] = svc
    return svc


def _agent_json(detail: dict[str, str], agent_id: str) -> dict[str, Any]:
    import json

    return {"id": agent_id, "name": detail.get("name", agent_id),
            "address": detail.get("address", ""),
            "skills": json.loads(detail.get("skills") or "{}"),
            "presence": detail.get("presence", "offline"),
            "since": int(detail.get("since") or 0) / 1000.0}


@bp.get("")
def list_agents() -> Response:
    svc = queue_service()
    agents = [_agent_json(svc.agents.detail(a.id), a.id) for a in svc.agents.all()]
    return jsonify({"agents": agents})


@bp.post("/<agent_id>/presence")
def set_presence(agent_id: str) -> tuple[Response, int] | Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("state"), str):
        return _error('send JSON {"state": "available"|"break"|"offline"}', 400)
    svc = queue_service()
    try:
        svc.agent_presence(agent_id, body["state"], time.time())
    except NotFound as exc:
        return _error(str(exc), 404)
    except Conflict as exc:
        return _error(str(exc), 409)
    except ValueError as exc:
        return _error(str(exc), 400)
    return jsonify(_agent_json(svc.agents.detail(agent_id), agent_id))


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": message}), status
