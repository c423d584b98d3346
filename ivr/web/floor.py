"""Twilio webhooks of the agent floor (docs/agent-floor.md, "Webhooks we answer"):

- `/voice/floor/wait?call=`, `/voice/floor/hold?call=`: the conference's waitUrl and the
  caller's HoldUrl (hold audio);
- `/voice/floor/agent?call=&role=&who=&reservation=&mode=`: an agent-side or monitor leg
  answered; `/voice/floor/left?...`: its Dial action; `/voice/floor/leg?...`: its status
  callback (204);
- `/voice/floor/events?call=`: the conference's status callback (204);
- `/voice/floor/back?call=`: the caller, redirected after a ring nobody answered;
- `/voice/floor/requeue?call=&queue=`: the caller, redirected by a transfer to a queue.

Same contract as ivr/web/voice.py: signature checked (403), never a 5xx. The caller's
documents fall back to the usual route to a human; an agent's leg falls back to an apology
and a hang-up (never to the fallback queue); a status callback that fails is logged and
answered 204 (Twilio does not retry it). The routes are declared as the queue's are
(ivr/web/routing_hooks.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from ivr.app.services import services
from ivr.phone.floor_legs import FloorLegs
from ivr.phone.twiml_builder import VoiceResponse
from ivr.web import pipeline
from ivr.web.routing_hooks import arg, hook, routing
from ivr.web.voice import call_sid, never_fails_holding, now, twiml_response

log = logging.getLogger(__name__)
bp = Blueprint("floor", __name__)


def legs() -> FloorLegs:
    return routing(services().floor_legs)


def leg_fallback() -> str:
    r = VoiceResponse()
    r.say("Sorry, this call could not be connected.", language="en-US")
    r.hangup()
    return str(r)


def never_fails_leg(view: Callable[..., str]) -> Callable[..., Response]:
    """An agent-side leg's document: on failure an apology and a hang-up."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        return twiml_response(pipeline.answer_safely(
            current_app.extensions.get("ivr"), current_app.config["IVR"],
            request.endpoint or "unknown", request.path, call_sid(),
            functools.partial(view, *args, **kwargs), fallback=leg_fallback))

    return guarded


def status_callback(view: Callable[..., None]) -> Callable[..., Response]:
    """A status callback: 204 whatever happens; a failure is logged with the CallSid."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            view(*args, **kwargs)
        except Exception:
            log.exception("floor callback %s failed for call %s", request.path, arg("call"))
        return Response(status=204)

    return guarded


@hook(bp, "/voice/floor/wait", never_fails_holding)
def wait() -> str:
    return legs().wait(arg("call"))


@hook(bp, "/voice/floor/hold", never_fails_holding)
def hold() -> str:
    return legs().hold(arg("call"))


@hook(bp, "/voice/floor/agent", never_fails_leg)
def agent() -> str:
    return legs().answered(arg("call"), call_sid(), arg("role") or "agent", arg("who"),
                           arg("reservation"), now(), mode=arg("mode") or None)


@hook(bp, "/voice/floor/left", never_fails_leg)
def left() -> str:
    legs().left(arg("call"), arg("leg") or call_sid(), now())
    r = VoiceResponse()
    r.hangup()
    return str(r)


@hook(bp, "/voice/floor/leg", status_callback)
def leg() -> None:
    legs().leg_status(arg("call"), call_sid(), arg("role") or "agent", arg("who"),
                      arg("reservation"), (request.form.get("CallStatus") or "")[:20], now())


@hook(bp, "/voice/floor/events", status_callback)
def events() -> None:
    form = {k: v[:64] for k, v in request.form.items()}
    legs().conference_event(arg("call"), form, now())


@hook(bp, "/voice/floor/requeue")
def requeue() -> str:
    return legs().bridging.requeue(arg("call") or call_sid(), arg("queue"), now())


@hook(bp, "/voice/floor/back")
def back() -> str:
    return legs().bridging.back(arg("call") or call_sid(), now())
