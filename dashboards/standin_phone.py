"""The demo phone: the agent console's softphone when the app runs against the local Twilio
stand-in (`bin/dev demo`, no Twilio credentials).

The real Voice SDK connects to wss://voice-js.roaming.twilio.com, which the stand-in is not,
so in the demo the console loads standin-device.js instead: the same Device/Call surface,
driving the stand-in's simulated client devices (devkit/twilio_standin/client_devices.py).
The page talks only to these same-origin routes (its Content-Security-Policy stays
`connect-src 'self'`), and they forward to the stand-in for the signed-in user's OWN
identity (dashboards/softphone.py `softphone_for`): another identity is refused (403), as a
token for another identity would be. With real Twilio credentials (`Config.uses_standin`
false) every route answers 404: production has no way to reach a simulator.
"""

from __future__ import annotations

from typing import Any

import requests
from flask import Blueprint, Response, abort, jsonify, request

from dashboards.auth import current_user, require_role
from dashboards.softphone import softphone_for
from ivr.app.services import services
from ivr.phone.call_control import STANDIN_DEFAULT

bp = Blueprint("standin_phone", __name__, url_prefix="/demo-phone")
ACTIONS = ("accept", "reject", "hangup", "digits", "mute")
TIMEOUT = 10.0  # seconds: the stand-in is local; a hung one must not hold a page worker


def uses_standin() -> bool:
    return bool(services().config.uses_standin)


def _base() -> str:
    return (services().config.twilio_api_base or STANDIN_DEFAULT).rstrip("/")


def _own(identity: str) -> None:
    """404 with real Twilio credentials (these routes do not exist there); 403 unless
    `identity` is the signed-in user's own device."""
    if not uses_standin():
        abort(404)
    user = current_user()
    assert user is not None  # require_role
    mine = softphone_for(user)
    if mine["mode"] != "device" or mine["identity"] != identity:
        abort(403, description=f"{user.username} may only use their own phone")


def _forward(method: str, path: str, body: Any = None) -> Response:
    try:
        answer = requests.request(method, _base() + "/sim/clients/" + path, json=body,
                                  timeout=TIMEOUT)
    except requests.RequestException as exc:
        return jsonify(error=f"the Twilio stand-in did not answer: {exc}"), 502  # type: ignore[return-value]
    response = Response(answer.content, status=answer.status_code,
                        content_type=answer.headers.get("Content-Type", "application/json"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<identity>/register")
@require_role("agent", "supervisor")
def register(identity: str) -> Response:
    """Registered in manual mode: calls ring until the person accepts or rejects them."""
    _own(identity)
    return _forward("POST", f"{identity}/register", {"mode": "manual"})


@bp.delete("/<identity>")
@require_role("agent", "supervisor")
def unregister(identity: str) -> Response:
    _own(identity)
    return _forward("DELETE", identity)


@bp.get("/<identity>/calls")
@require_role("agent", "supervisor")
def calls(identity: str) -> Response:
    _own(identity)
    return _forward("GET", f"{identity}/calls")


@bp.post("/<identity>/dial")
@require_role("agent", "supervisor")
def dial(identity: str) -> Response:
    _own(identity)
    body = request.get_json(silent=True) or {}
    return _forward("POST", f"{identity}/dial",
                    {"to": body.get("to"), "params": body.get("params")})


@bp.post("/<identity>/calls/<sid>/<action>")
@require_role("agent", "supervisor")
def act(identity: str, sid: str, action: str) -> Response:
    _own(identity)
    if action not in ACTIONS or not sid.isalnum():
        abort(404)
    return _forward("POST", f"{identity}/calls/{sid}/{action}", request.get_json(silent=True) or {})
