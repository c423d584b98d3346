"""`POST /voice/fallback`: the number's VoiceFallbackUrl, where Twilio goes when a webhook failed.

Twilio requests the fallback URL at once when it could not fetch or run the TwiML of a webhook
(connection refused or reset - say the web process serving it was killed -, a 5xx, a timeout,
bad TwiML), with the call's parameters plus `ErrorCode` and `ErrorUrl`. Without one the
caller hears "an application error has occurred" and the call ends.

The route first replays the failed webhook in this process: every voice webhook is already
safe to repeat, because Twilio retries them (a step's answer is stored under its step number
and returned again, side effects are not done twice; see ivr/phone/calls.py). So the caller goes on
where they were, usually without noticing. When the replay cannot help (the ErrorUrl is not one
of our voice webhooks, or it fails again), the answer is the fallback route (an apology and a
human), which needs no Redis. Pointing the VoiceFallbackUrl at this app is right when several
web processes or machines serve it behind one address (the retry lands on a live one); a
second, independent deployment or a TwiML Bin is the extra safety against the whole site
being down (docs/deployment.md).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from ivr.config.metrics import FALLBACKS
from ivr.phone.twilio_auth import REPLAY_KEY, twilio_webhook
from ivr.web.voice import call_sid, fallback_twiml, hold_fallback, twiml_response

log = logging.getLogger(__name__)

bp = Blueprint("fallback", __name__)

FALLBACK_PATH = "/voice/fallback"
ERROR_FIELDS = ("ErrorCode", "ErrorUrl")
# Webhooks answered inside Twilio's hold loop (waitUrl, and the keys pressed while holding):
# their fallback keeps the caller holding, as their own views do (ivr/web/queue.py).
HOLDING_PATHS = ("/voice/queue/wait", "/voice/queue/key", "/voice/queue/callback")


@bp.post(FALLBACK_PATH)
@twilio_webhook
def voice_fallback() -> Response:
    error_url = request.form.get("ErrorUrl", "")
    log.warning("call %s: Twilio used the fallback URL after error %s on %s", call_sid(),
                request.form.get("ErrorCode", "?"), error_url)
    replayed = replay(error_url)
    if replayed is not None:
        return replayed
    FALLBACKS.labels("voice_fallback").inc()
    target = replayable_path(error_url)
    if target is not None and target[0] in HOLDING_PATHS:
        return twiml_response(hold_fallback())  # inside the hold loop: <Enqueue> not allowed
    return twiml_response(fallback_twiml())


def replayable_path(error_url: str) -> tuple[str, str] | None:
    """(path, query) of `error_url` when it is one of this app's voice webhooks (never the
    fallback itself: no loops); None otherwise."""
    base = current_app.config["IVR"].public_base_url.rstrip("/")
    if not error_url.startswith(base + "/voice"):
        return None
    parts = urlsplit(error_url)
    prefix = urlsplit(base).path
    path = parts.path[len(prefix):] if prefix and parts.path.startswith(prefix) else parts.path
    if path == FALLBACK_PATH:
        return None
    return path, parts.query


def replay(error_url: str) -> Response | None:
    """Run the failed webhook again here, with the fallback request's parameters (without the
    error fields); its TwiML, or None when it did not answer 200."""
    target = replayable_path(error_url)
    if target is None:
        return None
    form = MultiDict([(k, v) for k, v in request.form.items(multi=True)
                      if k not in ERROR_FIELDS])
    environ = EnvironBuilder(path=target[0], query_string=target[1], method="POST",
                             base_url=request.host_url, data=form).get_environ()
    environ[REPLAY_KEY] = True  # verified above; WSGI keys cannot come from the network
    status: list[str] = []

    def start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(code)
        return lambda data: None

    body = current_app.wsgi_app(environ, start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    if not status or not status[0].startswith("200"):
        log.warning("call %s: replaying %s answered %s", call_sid(), target[0],
                    status[0] if status else "nothing")
        return None
    return Response(data, status=200, mimetype="text/xml")
