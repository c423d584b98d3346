"""JSON API for agent presence (the agent page and supervisors use it).

    GET  /api/agents  -> {"agents": [{id, name, address, skills, presence, since}]}
    POST /api/agents/<id>/presence {"state": "available"|"break"|"offline"} -> the agent

Signed-in users only: supervisors (and admins) for any agent, an agent for themselves (user
name = agent id); without a session 401, without the role 403. Errors are 4xx JSON
`{"error": "..."}` saying what to fix: 400 bad body or state, 404 unknown agent, 409 while the
agent is ringing or on a call. The QueueService is built once per app from the app's Redis
connection and queues.yaml, and kept in `app.extensions`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from dashboards.auth import current_user, require_role
from ivr.config.queues import build_queue_service
from ivr.domain.errors import Conflict, NotFound

bp = Blueprint("agents", __name__, url_prefix="/api/agents")


def queue_service() -> Any:
    ext = current_app.extensions
    svc = ext.get("ivr_queue_service")
    if svc is None:
        services = ext["ivr"]
        svc = getattr(services, "queue_engine", None)
        if svc is None or not hasattr(svc, "agent_presence"):
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


def signed_in(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in and role check (dashboards/auth.py) whenever the app has it, which the product
    always does (every dashboards module is registered); a bare app made to unit-test this
    blueprint alone has no users to check."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if "auth" not in current_app.blueprints:
                return view(*args, **kwargs)
            user = current_user()
            if (user is not None and user.role == "agent" and request.method == "POST"
                    and kwargs.get("agent_id") != user.username):
                return _error("agents change only their own presence", 403)
            return require_role(*roles)(view)(*args, **kwargs)

        return checked

    return wrap


@bp.get("")
@signed_in("agent", "supervisor")
def list_agents() -> Response:
    svc = queue_service()
    agents = [_agent_json(svc.agents.detail(a.id), a.id) for a in svc.agents.all()]
    return jsonify({"agents": agents})


@bp.post("/<agent_id>/presence")
@signed_in("agent", "supervisor")
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
