"""Twilio voice webhooks: `POST /voice` (incoming call), `/voice/next` (Gather, Record and Dial
actions), `/voice/queue/done` (Enqueue action), `/voice/status` and `/voice/recording`.

Every view: verify the signature (403 when forged), parse the form, call the service, return
TwiML. Any failure inside becomes the fallback TwiML (an apology and a route to a human) with
status 200, logged with the CallSid: a caller never hears "an application error has occurred".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request

from ivr.app.services import Services, services
from ivr.phone.twilio_auth import twilio_webhook
from ivr.phone.twiml import empty
from ivr.web import pipeline
from ivr.web.forms import callback_event, caller_data, queue_event, seq_param

bp = Blueprint("voice", __name__)


def twiml_response(xml: str) -> Response:
    return Response(xml, status=200, mimetype="text/xml")


def call_sid() -> str:
    return (request.form.get("CallSid") or "")[:64]


def never_fails(view: Callable[..., str], holding: bool = False) -> Callable[..., Response]:
    """The view through the webhook pipeline (ivr/web/pipeline.py answer_safely, as the lane
    does): the CallSid on its log records, any exception the fallback route with the traceback
    logged. `holding` views answer inside Twilio's waitUrl, where <Enqueue> and <Dial> are not
    allowed: their fallback keeps the caller holding (they are already in a queue) instead."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        return twiml_response(pipeline.answer_safely(
            current_app.extensions.get("ivr"), current_app.config["IVR"],
            request.endpoint or "unknown", request.path, call_sid(),
            functools.partial(view, *args, **kwargs), holding))

    return guarded


def never_fails_holding(view: Callable[..., str]) -> Callable[..., Response]:
    return never_fails(view, holding=True)


def hold_fallback() -> str:
    return pipeline.hold_fallback()


def fallback_twiml() -> str:
    return pipeline.fallback_twiml(current_app.extensions.get("ivr"), current_app.config["IVR"])


def fallback_for(svc: Services) -> str:
    return pipeline.fallback_twiml(svc, svc.config)


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
    local spool and is applied when Redis is back (ivr/outcomes/spool.py), never lost."""
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
