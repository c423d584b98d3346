"""A fast lane in front of Flask for Twilio's three busiest webhooks: `POST /voice`,
`/voice/next` and `/voice/status` (every call makes them; they are most of the traffic).

Why: under gunicorn's threads, Flask's per-request machinery (request context, session,
hooks, proxies, response object) cost about a third of one of these webhooks' server CPU
(`ivr bench webhook`, and the README's Performance section). The lane parses the form,
checks the signature with one HMAC and calls the very functions the Flask views call
(`answer_incoming`, `answer_next`, `answer_status` in ivr/web/voice.py), so there is one
implementation of what a webhook does and two ways in.

The lane only answers when it is sure; everything else goes to Flask unchanged, where the
views do the complete job: another path or method, a body that is not a small url-encoded
form, development mode (no auth token), Twilio's signature-settings header, a signature the
one-HMAC check does not match (Flask then tries the port variants and answers 403 when it is
forged), and, once per `IVR_FLOW_CONVERGE_EVERY`, the request that runs Flask's
before-request hook picking up flows published elsewhere. What the lane keeps from the
views: a failure inside becomes the fallback TwiML (status 200, logged with the CallSid,
counted in `ivr_webhook_fallbacks_total`), the latency and response metrics under the same
endpoint names, and replays from `/voice/fallback` (their signature was checked there).
The lane also keeps the app's body cap (`IVR_MAX_BODY_BYTES`, ivr/web/body_limits.py): a
Content-Length over it gets 413 before anything is read, a chunked body is read at most to the
cap (then 413) and put back with its length for whoever answers.
"""

from __future__ import annotations

import hmac
import io
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.exceptions import RequestEntityTooLarge

from ivr.flow_publishing import CONVERGE_DUE
from ivr.log_format import CALL_SID
from ivr.metrics import FALLBACKS, WEBHOOK_LATENCY, WEBHOOK_RESPONSES
from ivr.services import Services
from ivr.twilio_auth import REPLAY_KEY, signature_of, signed_url
from ivr.web.body_limits import bound_body
from ivr.web.voice import answer_incoming, answer_next, answer_status, fallback_for

log = logging.getLogger(__name__)

Answer = Callable[[Services, Mapping[str, str], Mapping[str, str], datetime], str]
# path -> (the Flask endpoint it stands in for: metric labels and logs, the answer)
ROUTES: dict[str, tuple[str, Answer]] = {
    "/voice": ("voice.incoming_call", answer_incoming),
    "/voice/next": ("voice.next_step", answer_next),
    "/voice/status": ("voice.status_callback", answer_status),
}
MAX_BODY = 64 * 1024  # Twilio's forms are a few hundred bytes
FORM = "application/x-www-form-urlencoded"
StartResponse = Callable[..., Any]


class WebhookLane:
    """WSGI middleware: `app.wsgi_app = WebhookLane(app, app.wsgi_app)` (ivr/__init__.py)."""

    def __init__(self, app: Flask, flask_wsgi: Callable[..., Iterable[bytes]]) -> None:
        self.app, self.flask_wsgi = app, flask_wsgi
        self.served = 0  # requests answered here, not by Flask (tests read it)
        self._metrics = {endpoint: (WEBHOOK_LATENCY.labels(endpoint),
                                    WEBHOOK_RESPONSES.labels(endpoint, "200"))
                         for endpoint, _ in ROUTES.values()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse,
                 ) -> Iterable[bytes]:
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_wsgi(environ, start_response)
        try:
            bound_body(environ, self.app.config["MAX_CONTENT_LENGTH"])
        except RequestEntityTooLarge as exc:
            return exc(environ, start_response)
        if self._converge_due():
            return self.flask_wsgi(environ, start_response)
        parsed = self._parse(environ)
        if parsed is None:
            return self.flask_wsgi(environ, start_response)
        started = time.perf_counter()
        form, args = parsed
        svc: Services = self.app.extensions["ivr"]
        endpoint, answer = route
        token = CALL_SID.set(form.get("CallSid"))
        try:
            try:
                xml = answer(svc, form, args, svc.clock())
            except Exception:
                log.exception("webhook %s failed for call %s; caller sent to fallback",
                              environ["PATH_INFO"], form.get("CallSid", ""))
                FALLBACKS.labels(endpoint).inc()
                xml = fallback_for(svc)
        finally:
            CALL_SID.reset(token)
            svc.end_request()  # as Flask's teardown does (ivr/__init__.py): see lean_script
        body = xml.encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        latency, responses = self._metrics[endpoint]
        latency.observe(time.perf_counter() - started)
        responses.inc()
        self.served += 1
        return [body]

    def _converge_due(self) -> bool:
        """Flask's before-request hook looks for published flows at most once a second
        (dashboards/admin_support.py converge_flows): when it is due, Flask takes the request."""
        return time.monotonic() >= self.app.extensions.get(CONVERGE_DUE, 0.0)

    def _parse(self, environ: dict[str, Any],
               ) -> tuple[dict[str, str], dict[str, str]] | None:
        """(form, query) of a request the lane may answer, else None. The body read here is
        put back, so Flask can read it when the lane hands the request over."""
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if content_type != FORM or not length.isdigit() or int(length) > MAX_BODY:
            return None
        if environ.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS"):
            return None  # another algorithm: Flask's check knows it
        raw = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return None
        query = environ.get("QUERY_STRING", "")
        if not environ.get(REPLAY_KEY) and not self._signed(environ, query, pairs):
            return None
        return _first_values(pairs), _first_values(parse_qsl(query, keep_blank_values=True))

    def _signed(self, environ: Mapping[str, Any], query: str,
                pairs: list[tuple[str, str]]) -> bool:
        config = self.app.config["IVR"]
        signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
        if config.signing_token is None or not signature:
            return False
        url = signed_url(config.public_base_url, environ["PATH_INFO"], query)
        expected = signature_of(config.signing_token, url, pairs)
        return hmac.compare_digest(expected.encode(), signature.encode())


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """As Flask's `request.form.get` reads a repeated name: its first value."""
    out: dict[str, str] = {}
    for name, value in pairs:
        out.setdefault(name, value)
    return out
