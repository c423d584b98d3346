"""`POST /voice/floor/recording?call=<caller CallSid>`: Twilio's recording status callback of a
recorded agent call (docs/agent-floor.md; ivr/phone/floor_recording.py files the events).

Signed (403 when forged) and behind the webhook pipeline's never-fail rule
(ivr/web/pipeline.py `answer_safely`): the CallSid on every log record, any failure logged and
counted, never a 5xx. Answers 204: a status callback's body is not read by Twilio, nor is the
callback retried, so with Redis away the callback goes to the local spool and is applied at
its own time when Redis is back (as `/voice/status` and `/voice/recording` are). The form's
CallSid is the agent's leg; the event is filed under the caller's, from the signed URL.
"""

from __future__ import annotations

import redis
from flask import Blueprint, Response, current_app, request

from ivr.app.services import services
from ivr.phone.twilio_auth import twilio_webhook
from ivr.web import pipeline
from ivr.web.routing_hooks import arg, routing
from ivr.web.voice import twiml_response

bp = Blueprint("floor_recording", __name__)


@bp.post("/voice/floor/recording")
@twilio_webhook
def recording_status() -> Response:
    svc = current_app.extensions.get("ivr")
    call = arg("call")

    def answer() -> str:
        recorder = routing(services().floor_recording)
        form, at = dict(request.form), services().clock()
        try:
            recorder.status_callback(call, form, at)
        except redis.RedisError as exc:
            services().defer("floor_recording", call, form, at, exc)
        return ""

    out = pipeline.answer_safely(svc, current_app.config["IVR"], request.endpoint or "unknown",
                                 request.path, call, answer)
    return Response(status=204) if out == "" else twiml_response(out)
