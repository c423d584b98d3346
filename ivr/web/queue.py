"""Twilio webhooks for callers in a skill queue and the legs that connect them.

- `/voice/queue/wait?queue=` the Enqueue waitUrl (hold loop), `/voice/queue/key` and
  `/voice/queue/callback?step=` (keys while holding, callback dialogue): ivr/phone/holding.py
- `/voice/queue/bridge`, `/voice/queue/whisper`, `/voice/queue/dialed`,
  `/voice/queue/overflow`: connecting the caller to the reserved agent (ivr/phone/bridging.py)
- `/voice/queue/callback/{agent,customer,answered,done,status}`: callback legs
  (ivr/phone/callback_legs.py)

Same contract as ivr/web/voice.py: signature checked (403), never a 5xx, fallback TwiML on
any failure. Requests from the fallback queue (`fallback=1`, Redis may be down) get a plain
hold loop that needs nothing but this process.
"""

from __future__ import annotations

import logging

from flask import Blueprint, request

from ivr.app.services import services
from ivr.phone.bridging import BridgeService
from ivr.phone.callback_legs import CallbackLeg, CallbackLegs
from ivr.phone.holding import HoldService
from ivr.phone.twilio_auth import twilio_webhook
from ivr.phone.twiml import empty
from ivr.web.forms import dial_result
from ivr.web.voice import call_sid, hold_fallback, never_fails, never_fails_holding, now

log = logging.getLogger(__name__)
bp = Blueprint("queue", __name__)


def holding() -> HoldService:
    svc = services().holding
    if svc is None:
        raise LookupError("queue routing is off (no queues.yaml)")
    return svc


def bridging() -> BridgeService:
    svc = services().bridging
    if svc is None:
        raise LookupError("queue routing is off (no queues.yaml)")
    return svc


def callback_legs() -> CallbackLegs:
    svc = services().callback_legs
    if svc is None:
        raise LookupError("queue routing is off (no queues.yaml)")
    return svc


def arg(name: str) -> str:
    return (request.args.get(name) or "")[:64]


@bp.post("/voice/queue/wait")
@twilio_webhook
@never_fails_holding
def wait() -> str:
    fallback = bool(request.args.get("fallback"))
    if fallback:
        try:
            return holding().wait(call_sid(), arg("queue"), now(), fallback=True)
        except Exception:  # noqa: BLE001 - Redis still down: a plain hold loop, retried next loop
            log.warning("call %s: fallback hold without the queue engine", call_sid(),
                        exc_info=True)
            return hold_fallback()
    return holding().wait(call_sid(), arg("queue"), now())


@bp.post("/voice/queue/key")
@twilio_webhook
@never_fails_holding
def key() -> str:
    return holding().key(call_sid(), (request.form.get("Digits") or "")[:1], now())


@bp.post("/voice/queue/callback")
@twilio_webhook
@never_fails_holding
def callback_dialogue() -> str:
    tries = arg("tries")
    return holding().callback(call_sid(), arg("step"),
                                       (request.form.get("Digits") or "")[:20],
                                       int(tries) if tries.isdigit() else 0, now())


@bp.post("/voice/queue/bridge")
@twilio_webhook
@never_fails
def bridge() -> str:
    return bridging().bridge(call_sid(), arg("agent"), arg("reservation"), now())


@bp.post("/voice/queue/whisper")
@twilio_webhook
@never_fails
def whisper() -> str:
    return bridging().whisper(arg("call"), arg("agent"), arg("reservation"), now())


@bp.post("/voice/queue/dialed")
@twilio_webhook
@never_fails
def dialed() -> str:
    status, duration = dial_result(request.form)
    return bridging().dialed(call_sid(), arg("agent"), arg("reservation"), status,
                                      duration, now())


@bp.post("/voice/queue/overflow")
@twilio_webhook
@never_fails
def overflow() -> str:
    return bridging().overflow(call_sid(), arg("queue"), arg("action"), now())


def callback_leg() -> CallbackLeg:
    return CallbackLeg(arg("callback"), arg("reservation"), arg("agent"))


@bp.post("/voice/queue/callback/agent")
@twilio_webhook
@never_fails
def callback_agent_leg() -> str:
    return callback_legs().agent_leg(callback_leg())


@bp.post("/voice/queue/callback/customer")
@twilio_webhook
@never_fails
def callback_customer_leg() -> str:
    return callback_legs().customer_leg(callback_leg())


@bp.post("/voice/queue/callback/answered")
@twilio_webhook
@never_fails
def callback_answered() -> str:
    return callback_legs().answered(callback_leg(), now())


@bp.post("/voice/queue/callback/done")
@twilio_webhook
@never_fails
def callback_done() -> str:
    status, duration = dial_result(request.form)
    return callback_legs().finished(callback_leg(), arg("by"), status, duration,
                                             (request.form.get("DialCallSid") or "")[:64],
                                             now())


@bp.post("/voice/queue/callback/status")
@twilio_webhook
@never_fails
def callback_status() -> str:
    callback_legs().first_leg_ended(callback_leg(), arg("by"),
                                             (request.form.get("CallStatus") or "")[:20],
                                             call_sid(), now())
    return empty()
