"""`POST /sms`: the number's Messaging webhook. A customer's reply to an SMS survey becomes
the survey answer on their call (ivr/outcomes/sms_survey.py); the answer is TwiML `<Response>` with
a `<Message>` (thanks, or the question again), or an empty `<Response/>` for other messages.

Signature-checked like the voice webhooks (403 when forged). A failure inside is logged and
answered with an empty `<Response/>`: Twilio then sends nothing, and nothing is retried.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from ivr.app.services import services
from ivr.outcomes.sms_survey import SmsSurveys
from ivr.phone.twilio_auth import twilio_webhook
from ivr.phone.twiml_builder import MessagingResponse

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)


@bp.post("/sms")
@twilio_webhook
def inbound_sms() -> Response:
    svc = services()
    reply = MessagingResponse()
    try:
        text = SmsSurveys(svc.redis, svc.flows, svc.publish).reply(
            (request.form.get("From") or "")[:40], request.form.get("Body") or "",
            request.form.get("MessageSid") or "", svc.clock())
    except Exception:  # noqa: BLE001 - logged; the customer just gets no reply
        log.exception("SMS %s from %s could not be handled", request.form.get("MessageSid"),
                      request.form.get("From"))
        text = ""
    if text:
        reply.message(text)
    return Response(str(reply), status=200, mimetype="text/xml")
