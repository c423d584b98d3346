"""Twilio voice webhooks: `POST /voice` (incoming call), `/voice/next` (Gather, Record and Dial
actions), `/voice/queue/done` (Enqueue action), `/voice/status` and `/voice/recording`.

Every view: verify the signature (403 when forged), parse the form, call the service, return
TwiML. Any failure inside becomes the fallback TwiML (an apology and a route to a human) with
status 200, logged with the CallSid: a caller never hears "an application error has occurred".
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request

from ivr.metrics import FALLBACKS
from ivr.services import Services, services
from ivr.twilio_auth import twilio_webhook
from ivr.twiml import empty, render_fallback
from ivr.web.forms import callback_event, caller_data, queue_event, seq_param

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__)


def twiml_response(xml: str) -> Response:
    return Response(xml, status=200, mimetype="text/xml")


def call_sid() -> str:
    return (request.form.get("CallSid") or "")[:64]


def never_fails(view: Callable[..., str], holding: bool = False) -> Callable[..., Response]:
    """Turn any exception into the fallback route; the traceback goes to the log with the sid.
    `holding` views answer inside Twilio's waitUrl, where <Enqueue> and <Dial> are not allowed:
    their fallback keeps the caller holding (they are already in a queue) instead."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            return twiml_response(view(*args, **kwargs))
        except Exception:
            log.exception("webhook %s failed for call %s; caller sent to fallback",
                          request.path, call_sid())
            FALLBACKS.labels(request.endpoint or "unknown").inc()
            return twiml_response(hold_fallback() if holding else fallback_twiml())

    return guarded


def never_fails_holding(view: Callable[..., str]) -> Callable[..., Response]:
    return never_fails(view, holding=True)


def hold_fallback() -> str:
    """Keep holding: the caller stays in Twilio's queue and the next loop tries again."""
    from ivr.twiml_builder import VoiceResponse

    r = VoiceResponse()
    r.say("Thank you for waiting. Someone will be with you as soon as possible.")
    r.pause(length=10)
    return str(r)


def fallback_twiml() -> str:
    svc = current_app.extensions.get("ivr")
    if svc is not None:
        return fallback_for(svc)
    config = current_app.config["IVR"]
    return render_fallback(_urls(config), number=config.extra.get("fallback_number"))


def fallback_for(svc: Services) -> str:
    return render_fallback(svc.urls, queue=svc.fallback_queue,
                           number=svc.config.extra.get("fallback_number"))


def _urls(config: Any) -> Any:
    from ivr.twiml import Urls

    return Urls(config.public_base_url)


def now() -> datetime:
    return services().clock()


# The three busiest webhooks, as functions of the parsed request: the views below call them,
# and so does the fast lane in front of Flask (ivr/web/webhook_lane.py).
Form = Mapping[str, str]


def answer_incoming(svc: Services, form: Form, args: Form, at: datetime) -> str:
    return svc.calls.start(_sid(form), caller_data(form), at)


def answer_next(svc: Services, form: Form, args: Form, at: datetime) -> str:
    seq, sid = seq_param(args), _sid(form)
    answer = None
    if seq is not None and sid:
        answer = svc.calls.advance(sid, seq, callback_event(form, at))
    return answer if answer is not None else fallback_for(svc)


def answer_status(svc: Services, form: Form, args: Form, at: datetime) -> str:
    """Twilio never retries a status callback: if Redis is away, the call's end goes to the
    local spool and is applied when Redis is back (ivr/spool.py), never lost."""
    fields, sid = dict(form), _sid(form)
    try:
        svc.call_ended(sid, fields, at)
    except redis.RedisError as exc:
        svc.defer("call_ended", sid, fields, at, exc)
    return empty()


def _sid(form: Form) -> str:
    return (form.get("CallSid") or "")[:64]


@bp.post("/voice")
@twilio_webhook
@never_fails
def incoming_call() -> str:
    return answer_incoming(services(), request.form, request.args, now())


@bp.post("/voice/next")
@twilio_webhook
@never_fails
def next_step() -> str:
    return answer_next(services(), request.form, request.args, now())


@bp.post("/voice/queue/done")
@twilio_webhook
@never_fails
def queue_done() -> str:
    seq = seq_param(request.args)
    svc = services()
    event = queue_event(request.form, now())
    result = svc.queue_left(call_sid(), str(event.data["result"]), event.now)
    if seq is None or result is None:  # fallback queue, or redirected out of line by us
        return empty()
    event = replace(event, data={**event.data, "result": result})
    answer = svc.calls.advance(call_sid(), seq, event)
    return answer if answer is not None else empty()


@bp.post("/voice/status")
@twilio_webhook
@never_fails
def status_callback() -> str:
    return answer_status(services(), request.form, request.args, now())


@bp.post("/voice/recording")
@twilio_webhook
@never_fails
def recording_callback() -> str:
    svc, form, at = services(), dict(request.form), now()
    mailbox = request.args.get("mailbox", "general")
    try:
        svc.recording_ready(call_sid(), mailbox, form, at)
    except redis.RedisError as exc:  # not retried by Twilio either: spool it
        svc.defer("recording", call_sid(), {**form, "mailbox": mailbox}, at, exc)
    return empty()


def utc_now() -> datetime:
    return datetime.now(UTC)
