"""The console's call controls and supervisor monitoring (docs/agent-floor.md, "The
console's control API"): `POST /agent/call/<action>` and `POST /supervisor/monitor`,
`/supervisor/monitor/stop`, JSON in and out.

Agents act only on calls routed to them (dashboards/call_access.py), as themselves;
supervisors (and admins) on any call, as the agent who has it (or `agent` in the body).
Answers `{"ok": true, "floor": ...}`; 409 with the reason for a move not possible now
(ivr/domain/floor.py); 403 for another agent's call; 502 when Twilio refused. The REST calls
go inline with the client's timeout IVR_FLOOR_REST_TIMEOUT. Every monitoring action is an
outcome event (who, when, which call).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from dashboards.auth import current_user, require_role, user_engine
from dashboards.call_access import routed_to
from ivr.app.services import services
from ivr.domain.floor import Refused
from ivr.phone.floor_moves import FloorFailed, FloorMoves

bp = Blueprint("floor_api", __name__)


def moves() -> FloorMoves | None:
    """One FloorMoves per app, its REST client with the console's short timeout."""
    found: FloorMoves | None = current_app.extensions.get("ivr_floor_moves")
    legs = services().floor_legs
    if found is None and legs is not None:
        found = FloorMoves.for_console(legs, services().config)
        current_app.extensions["ivr_floor_moves"] = found
    return found


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _answer(run: Any) -> Response:
    try:
        floor = run()
    except Refused as exc:
        return jsonify(error=str(exc)), 409  # type: ignore[return-value]
    except KeyError as exc:
        return jsonify(error=f"unknown action {exc.args[0]!r}"), 404  # type: ignore[return-value]
    except FloorFailed as exc:
        return jsonify(error=str(exc)), 502  # type: ignore[return-value]
    return jsonify(ok=True, floor=floor)


@bp.post("/agent/call/<path:action>")
@require_role("agent", "supervisor")
def control(action: str) -> Response:
    floor_moves, user, body = moves(), current_user(), _body()
    call = str(body.get("call") or "")[:64]
    if floor_moves is None:
        return jsonify(error="queue routing is off"), 503  # type: ignore[return-value]
    if not call:
        return jsonify(error='send {"call": "<caller CallSid>"}'), 400  # type: ignore[return-value]
    assert user is not None
    if user.role == "agent":
        if not routed_to(services(), user_engine(), user.username, call):
            return jsonify(error=f"call {call} was not put through to you"), 403  # type: ignore[return-value]
        actor = user.username
    else:
        actor = str(body.get("agent") or "")[:64] or floor_moves.current_agent(call) or ""
    return _answer(lambda: floor_moves.act(call, actor, action, body, services().clock()))


@bp.post("/supervisor/monitor")
@require_role("supervisor")
def monitor() -> Response:
    floor_moves, user, body = moves(), current_user(), _body()
    call, mode = str(body.get("call") or "")[:64], str(body.get("mode") or "listen")
    if floor_moves is None:
        return jsonify(error="queue routing is off"), 503  # type: ignore[return-value]
    assert user is not None
    return _answer(lambda: floor_moves.monitor(call, user.username, mode, services().clock()))


@bp.post("/supervisor/monitor/stop")
@require_role("supervisor")
def monitor_stop() -> Response:
    floor_moves, user, body = moves(), current_user(), _body()
    call = str(body.get("call") or "")[:64]
    if floor_moves is None:
        return jsonify(error="queue routing is off"), 503  # type: ignore[return-value]
    assert user is not None
    return _answer(lambda: floor_moves.monitor_stop(call, user.username, services().clock()))
