"""The agent console's softphone, server side: who the browser's `Twilio.Device` is, and its
access token.

`GET /agent/token` (agents and supervisors) answers `{"token", "identity", "ttl"}` for the
signed-in user's OWN identity, whatever `?agent=` says: an agent at `client:NAME` in
queues.yaml is `NAME` (the address routing rings), anyone else their user name (a
supervisor's softphone receives the monitor legs, docs/agent-floor.md). A supervisor looking at
an agent's console never gets that agent's token: whoever holds a token answers that
identity's calls. The token itself: ivr/phone/voice_token.py. The page fetches a new one when
the SDK says `tokenWillExpire`. 503 with the settings to set when there is no API key.

`softphone_for(user)` tells the page whether to start a Device (`device`: a `client:` agent, a
supervisor or an admin) or not (`phone`: an agent whose calls ring a phone number; their
console controls the call through the REST API, `/agent/call/<action>`). `softphone_page` adds
`sounds`, the SDK's `sounds` option: every ring, ringback, disconnect and DTMF sound from this
app (ivr/prompts/softphone_sounds.py), none from sdk.twilio.com (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from dashboards.auth import current_user, require_role
from ivr.app.services import services
from ivr.phone.voice_token import TokenUnavailable, issue_token
from ivr.prompts.softphone_sounds import SOUNDS
from ivr.store.users import User

bp = Blueprint("softphone", __name__)
VOICE_SDK_VERSION = "2.18.5"  # dashboards/static/vendor/twilio-voice/ (vendor README)
CLIENT = "client:"


def agent_address(agent_id: str) -> str | None:
    """The address routing rings `agent_id` at, or None for a user who is not an agent."""
    engine = services().queue_engine
    if engine is None:
        return None
    try:
        return engine.agents.get(agent_id).address
    except Exception:  # noqa: BLE001 - NotFound: a supervisor who is not an agent
        return None


def softphone_for(user: User) -> dict[str, Any]:
    """`{"mode": "device"|"phone", "identity": ...}` for the signed-in `user`."""
    address = agent_address(user.username) if user.role == "agent" else None
    if address and not address.startswith(CLIENT):
        return {"mode": "phone", "identity": None}
    identity = address[len(CLIENT):] if address else user.username
    return {"mode": "device", "identity": identity}


def sound_urls() -> dict[str, str]:
    """{SDK sound name: this app's URL for it}, for `new Twilio.Device(token, {sounds})`."""
    return {name: url_for("sounds.static", filename=f"softphone/{file}.mp3")
            for name, (file, _) in SOUNDS.items()}


def softphone_page(user: User) -> dict[str, Any]:
    """What the console's page data says about the softphone: `softphone_for`, plus the
    sound URLs when it starts a Device."""
    mine = softphone_for(user)
    return {**mine, "sounds": sound_urls()} if mine["mode"] == "device" else mine


@bp.get("/agent/token")
@require_role("agent", "supervisor")
def token() -> Response:
    user = current_user()
    assert user is not None  # require_role
    mine = softphone_for(user)
    if mine["mode"] != "device":
        return jsonify(error=f"{user.username} takes calls on a phone number, not in the "  # type: ignore[return-value]
                       "browser: no softphone token"), 409
    try:
        issued = issue_token(services().config, mine["identity"])
    except TokenUnavailable as exc:
        return jsonify(error=str(exc)), 503  # type: ignore[return-value]
    response = jsonify(token=issued.jwt, identity=issued.identity, ttl=issued.ttl)
    response.headers["Cache-Control"] = "no-store"
    return response
