"""Twilio webhooks for callers in a skill queue and the legs that connect them.

- `/voice/queue/wait?queue=` the Enqueue waitUrl (hold loop), `/voice/queue/key` and
  `/voice/queue/callback?step=` (keys while holding, callback dialogue): ivr/phone/holding.py
- `/voice/queue/bridge`, `/voice/queue/whisper`, `/voice/queue/dialed`,
  `/voice/queue/overflow`: connecting the caller to the reserved agent (ivr/phone/bridging.py)
- `/voice/queue/callback/{agent,customer,answered,done,status}`: callback legs, met in a
  conference as a routed caller is (ivr/phone/callback_legs.py; `customer?first=agent` is
  agent_first's customer joining the waiting agent)

Same contract as ivr/web/voice.py: signature checked (403), never a 5xx, fallback TwiML on
any failure (ivr/web/routing_hooks.py declares the routes so). Requests from the fallback
queue (`fallback=1`, Redis may be down) get a plain hold loop that needs nothing but this
process.
"""

from __future__ import annotations

import logging

from flask import Blueprint, request

from ivr.app.services import services
from ivr.phone.bridging import BridgeService
from ivr.phone.callback_legs import CallbackLeg, CallbackLegs
from ivr.phone.holding import HoldService
from ivr.phone.twiml import empty
from ivr.web.forms import dial_result
from ivr.web.routing_hooks import arg, form_value, hook, routing
from ivr.web.voice import call_sid, hold_fallback, never_fails_holding, now

log = logging.getLogger(__name__)
bp = Blueprint("queue", __name__)


def holding() -> HoldService:
    return routing(services().holding)


def bridging() -> BridgeService:
    return routing(services().bridging)


def callback_legs() -> CallbackLegs:
    return routing(services().callback_legs)


@hook(bp, "/voice/queue/wait", never_fails_holding)
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


@hook(bp, "/voice/queue/key", never_fails_holding)
def key() -> str:
    return holding().key(call_sid(), form_value("Digits", 1), now())


@hook(bp, "/voice/queue/callback", never_fails_holding)
def callback_dialogue() -> str:
    tries = arg("tries")
    return holding().callback(call_sid(), arg("step"), form_value("Digits", 20),
                              int(tries) if tries.isdigit() else 0, now())


@hook(bp, "/voice/queue/bridge")
def bridge() -> str:
    return bridging().bridge(call_sid(), arg("agent"), arg("reservation"), now())


@hook(bp, "/voice/queue/whisper")
def whisper() -> str:
    return bridging().whisper(arg("call"), arg("agent"), arg("reservation"), now())


@hook(bp, "/voice/queue/dialed")
def dialed() -> str:
    status, duration = dial_result(request.form)
    return bridging().dialed(call_sid(), arg("agent"), arg("reservation"), status, duration,
                             now(), form_value("CallStatus", 20))


@hook(bp, "/voice/queue/overflow")
def overflow() -> str:
    return bridging().overflow(call_sid(), arg("queue"), arg("action"), now())


def callback_leg() -> CallbackLeg:
    return CallbackLeg(arg("callback"), arg("reservation"), arg("agent"))


@hook(bp, "/voice/queue/callback/agent")
def callback_agent_leg() -> str:
    return callback_legs().agent_leg(callback_leg(), call_sid(), now())


@hook(bp, "/voice/queue/callback/customer")
def callback_customer_leg() -> str:
    return callback_legs().customer_leg(callback_leg(), call_sid(), arg("first") == "agent",
                                        now())


@hook(bp, "/voice/queue/callback/answered")
def callback_answered() -> str:
    return callback_legs().answered(callback_leg(), now())


@hook(bp, "/voice/queue/callback/done")
def callback_done() -> str:
    status, duration = dial_result(request.form)
    return callback_legs().finished(callback_leg(), arg("by"), status, duration,
                                    form_value("DialCallSid", 64), now(),
                                    form_value("CallStatus", 20))


@hook(bp, "/voice/queue/callback/status")
def callback_status() -> str:
    callback_legs().first_leg_ended(callback_leg(), arg("by"), form_value("CallStatus", 20),
                                    call_sid(), now())
    return empty()
