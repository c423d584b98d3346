"""`POST /voice/client`: the Voice URL of the softphone's TwiML App (TWILIO_TWIML_APP_SID).

When an agent places a call from the console's softphone (`Twilio.Device.connect({params:
{To}})`), Twilio asks this webhook what to do with it; we answer
`<Dial callerId="IVR_CALLER_ID"><Number>To</Number></Dial>`. The number passes the same
toll-fraud policy as callbacks (ivr/domain/phone_numbers.py: premium-rate, satellite and
foreign numbers refused; the countries are every country some queue calls back): a refused
number gets a `<Say>` saying why, never a dial. Only our own softphones place these calls
(`From` is `client:<identity>`); anything else is told so. Signed like every webhook, behind
the never-fail fallback (ivr/web/pipeline.py via `never_fails`).
"""

from __future__ import annotations

import logging

from flask import Blueprint, request

from ivr.app.services import services
from ivr.domain.phone_numbers import BadNumber, validate_callback_number
from ivr.phone.call_control import TEST_CALLER_ID
from ivr.phone.twilio_auth import twilio_webhook
from ivr.phone.twiml_builder import VoiceResponse
from ivr.web.voice import call_sid, never_fails

log = logging.getLogger(__name__)
bp = Blueprint("client_calls", __name__)


def outgoing_twiml(identity: str, to: str, countries: frozenset[str], caller_id: str) -> str:
    """What an agent's outgoing softphone call does: dial `to`, or say why not."""
    r = VoiceResponse()
    if not identity.startswith("client:"):
        r.say("This number only places calls for the agents' softphones.")
        r.hangup()
        return str(r)
    try:
        number = validate_callback_number(to, countries)
    except BadNumber as exc:
        log.info("softphone %s: outgoing call refused (%s)", identity, exc.kind)
        r.say(f"This call cannot be placed: {why(exc)}.")
        r.hangup()
        return str(r)
    r.dial(caller_id=caller_id).number(number)
    return str(r)


def why(exc: BadNumber) -> str:
    """The refusal as the agent hears it (the message without the number, which the agent
    keyed and the `<Say>` would spell out digit by digit)."""
    text = str(exc)
    return text.split(" is ", 1)[1] if " is " in text else "the number is not one we call"


@bp.post("/voice/client")
@twilio_webhook
@never_fails
def client_call() -> str:
    svc = services()
    caller_id = svc.config.caller_id or TEST_CALLER_ID
    frm = (request.form.get("From") or request.form.get("Caller") or "")[:128]
    to = (request.form.get("To") or "")[:64]
    log.info("softphone call %s from %s", call_sid(), frm)
    return outgoing_twiml(frm, to, svc.sms_countries, caller_id)
