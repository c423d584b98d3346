"""One pipeline for every Twilio voice webhook, whichever way it came in: a Flask view
(ivr/web/voice.py, queue.py) or the webhook lane in front of Flask (ivr/web/webhook_lane.py).

Owns what both ways must do alike (issue 13, item 3), each in one function:
- the signature: `ivr.phone.twilio_auth.is_signed` (twilio's RequestValidator), called by both;
- `answer_safely`: the call's log context (the CallSid on every record,
  ivr/config/log_format.py) and the never-fail rule: any exception becomes the fallback TwiML
  with status 200, logged with the CallSid and counted in `ivr_fallbacks_total`, so a caller
  never hears "an application error has occurred";
- `fallback_twiml`: that fallback (an apology and a route to a human; inside Twilio's hold
  loop, where <Enqueue> and <Dial> are not allowed, more holding);
- `observe`: the latency and response metrics under the Flask endpoint's name;
- `end_request`: the teardown that gives the request's Redis connection back (or lets the
  thread keep it for its next request, IVR_LEAN_REDIS_KEEP).

Must not import Flask's request globals: the lane has a WSGI environ, not a request context.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ivr.config.log_format import CALL_SID
from ivr.config.metrics import FALLBACKS, WEBHOOK_LATENCY, WEBHOOK_RESPONSES
from ivr.phone.twiml import Urls, render_fallback
from ivr.phone.twiml_builder import VoiceResponse

if TYPE_CHECKING:
    from ivr.app.services import Services
    from ivr.config.settings import Config

log = logging.getLogger(__name__)


def answer_safely(svc: Services | None, config: Config, endpoint: str, path: str, sid: str,
                  answer: Callable[[], str], holding: bool = False,
                  fallback: Callable[[], str] | None = None) -> str:
    """`answer()`'s TwiML, with the CallSid on every log record made meanwhile; on any
    exception, the fallback TwiML (see the module docstring), or `fallback()` for a leg that
    is not a caller's (an agent's leg must not be sent to the fallback queue). `endpoint`
    names the Flask endpoint (the lane uses the name of the view it stands in for)."""
    token = CALL_SID.set(sid or None)
    try:
        try:
            return answer()
        except Exception:
            log.exception("webhook %s failed for call %s; caller sent to fallback", path, sid)
            FALLBACKS.labels(endpoint).inc()
            return fallback() if fallback is not None else fallback_twiml(svc, config, holding)
    finally:
        CALL_SID.reset(token)


def fallback_twiml(svc: Services | None, config: Config, holding: bool = False) -> str:
    """The route to a human that needs no Redis: `IVR_FALLBACK_NUMBER`, else the fallback
    queue. `holding`: the caller is already in a queue (Twilio's waitUrl loop), keep holding."""
    if holding:
        return hold_fallback()
    number = config.fallback_number
    if svc is None:
        return render_fallback(Urls(config.public_base_url), number=number)
    return render_fallback(svc.urls, queue=svc.fallback_queue,
                           number=svc.config.fallback_number)


@functools.lru_cache(maxsize=1)
def hold_fallback() -> str:
    """Keep holding: the caller stays in Twilio's queue and the next loop tries again."""
    r = VoiceResponse()
    r.say("Thank you for waiting. Someone will be with you as soon as possible.")
    r.pause(length=10)
    return str(r)


@functools.lru_cache(maxsize=256)
def _series(endpoint: str, status: int) -> tuple[Any, Any]:
    """The metric children of one endpoint and status, looked up once (labels() costs a lock
    and a dict build per call)."""
    return WEBHOOK_LATENCY.labels(endpoint), WEBHOOK_RESPONSES.labels(endpoint, str(status))


def observe(endpoint: str, status: int, seconds: float) -> None:
    """One webhook answered: its latency (seconds) and its status, per endpoint."""
    latency, responses = _series(endpoint, status)
    latency.observe(seconds)
    responses.inc()


def end_request(svc: Services) -> None:
    """After every request, however it ended: the connection the request's thread held for
    the call scripts goes back to the pool (issue 12; ivr/store/lean_script.py), or stays with
    the thread for its next request, at most a second (IVR_LEAN_REDIS_KEEP). The lane
    calls it in a `finally`; Flask through `teardown` (registered by create_app)."""
    svc.end_request()


def teardown(_exc: BaseException | None) -> None:
    """Flask's teardown_request hook: `end_request` for the app's services."""
    from flask import current_app

    end_request(current_app.extensions["ivr"])
