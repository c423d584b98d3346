"""The console's recording buttons: `POST /agent/call/record/pause` and
`/agent/call/record/resume` with JSON `{"call": "<caller CallSid>"}` (docs/agent-floor.md,
"The console's control API"; issue 14 item 4: an agent pauses while the caller reads out a
card number).

Agents act only on calls routed to them (dashboards/call_access.py), supervisors and admins on
any. Answers `{"ok": true, "recording": "on"|"paused", "call": CA, "floor": <the floor state
as context.json shows it, or null>}`; 409 with why when the
call is not being recorded or is already so; 403 for another agent's call; 502 when Twilio
refused or did not answer within IVR_FLOOR_REST_TIMEOUT. The Twilio request is made inline
(an agent clicked and waits for the answer); ivr/phone/floor_recording.py does the work.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request

from dashboards.auth import current_user, require_role, user_engine
from dashboards.call_access import routed_to
from ivr.app.services import services
from ivr.domain.errors import Conflict
from ivr.phone.floor_recording import TwilioRefused
from ivr.store.floor import FloorStore

bp = Blueprint("recording_control", __name__)


@bp.post("/agent/call/record/<action>")
@require_role("agent", "supervisor")
def record(action: str) -> Any:
    if action not in ("pause", "resume"):
        return jsonify(error=f"unknown recording action {action!r}; use pause or resume"), 404
    body = request.get_json(silent=True) or {}
    call = str(body.get("call") or "")[:64] if isinstance(body, dict) else ""
    if not call:
        return jsonify(error='send JSON {"call": "<caller CallSid>"}'), 400
    user = current_user()
    if user is not None and user.role == "agent" and not routed_to(
            services(), user_engine(), user.username, call):
        return jsonify(error=f"call {call} was not put through to you: only its agent or a "
                             "supervisor may pause or resume its recording"), 403
    recorder = services().floor_recording
    if recorder is None:
        return jsonify(error="queue routing is off: no call is recorded"), 409
    now = datetime.fromtimestamp(time.time(), UTC)
    try:
        state = (recorder.pause if action == "pause" else recorder.resume)(call, now)
    except Conflict as exc:
        return jsonify(error=str(exc)), 409
    except TwilioRefused as exc:
        return jsonify(error=str(exc)), 502
    floor = FloorStore(services().redis).load(call)
    agent = user.username if user is not None and user.role == "agent" else body.get("agent")
    view = floor.view(str(agent or "") or None, now.timestamp()) if floor is not None else None
    return jsonify(ok=True, call=call, recording=state.console_state, floor=view)
