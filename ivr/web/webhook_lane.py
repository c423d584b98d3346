"""A fast lane in front of Flask for Twilio's three busiest webhooks: `POST /voice`,
`/voice/next` and `/voice/status` (every call makes them; they are most of the traffic).

Why: under gunicorn's threads, Flask's per-request machinery (request context, session,
hooks, proxies, response object) cost about a third of one of these webhooks' server CPU
(`ivr bench webhook`, docs/performance.md). The lane parses the form and then goes through the
same webhook pipeline as the Flask views (ivr/web/pipeline.py: the signature check, the call's
log context, the never-fail fallback, the metrics, the request's end) to the very functions the
views call (`answer_incoming`, `answer_next`, `answer_status` in ivr/web/voice.py): one
implementation of what a webhook does and two ways in. `IVR_WEBHOOK_LANE=0` turns it off
(create_app then does not install it); `ivr bench webhook --switches` shows what it buys.

Flask's hooks: every before/after/teardown hook the app would run for these webhooks is listed
in `LANE_HOOKS` with what the lane does instead; `create_app` refuses to start when the app has
a hook that is not listed (or a listed one is gone), so a new hook cannot be skipped unnoticed.

The lane only answers when it is sure; everything else goes to Flask unchanged, where the
views do the complete job: another path or method, a body that is not a small url-encoded
form, development mode (no auth token), a signature that does not match (Flask then answers
403 with the pages' headers), and, once per `IVR_FLOW_CONVERGE_EVERY`, the request that runs
Flask's before-request hook picking up flows published elsewhere. Replays from
`/voice/fallback` (their signature was checked there) are answered here too. The lane also
keeps the app's body cap (`IVR_MAX_BODY_BYTES`, ivr/app/body_limits.py): a Content-Length over
it gets 413 before anything is read, a chunked body is read at most to the cap (then 413) and
put back with its length for whoever answers.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.exceptions import RequestEntityTooLarge

from ivr.app.body_limits import bound_body
from ivr.app.services import Services
from ivr.flows.publishing import CONVERGE_DUE
from ivr.phone.twilio_auth import REPLAY_KEY, FormValues, is_signed, signed_url
from ivr.web import pipeline
from ivr.web.form_parse import library_form, parse_form
from ivr.web.voice import answer_incoming, answer_next, answer_status

Answer = Callable[[Services, Mapping[str, str], Mapping[str, str], datetime], str]
# path -> (the Flask endpoint it stands in for: metric labels and logs, the answer)
ROUTES: dict[str, tuple[str, Answer]] = {
    "/voice": ("voice.incoming_call", answer_incoming),
    "/voice/next": ("voice.next_step", answer_next),
    "/voice/status": ("voice.status_callback", answer_status),
}
BLUEPRINT = "voice"  # the blueprint of those endpoints: its own hooks apply to them too
MAX_BODY = 64 * 1024  # Twilio's forms are a few hundred bytes
FORM = "application/x-www-form-urlencoded"
StartResponse = Callable[..., Any]

# Every Flask hook that runs for the lane's webhooks ("kind module:function"), and how the lane
# does the same thing or why it need not. See `undeclared_hooks`.
LANE_HOOKS: dict[str, str] = {
    "before_request ivr.web.metrics:start_timer": "the lane starts its timer on entry",
    "after_request ivr.web.metrics:observe_webhook": "the lane calls pipeline.observe too",
    "after_request ivr.web.security_headers:add_security_headers":
        "nothing to do: it adds nothing to TwiML (text/xml), which is all the lane answers",
    "before_request ivr.app.flow_publisher:converge_flows":
        "when it is due (_converge_due), the lane hands the request to Flask, which runs it",
    "teardown_request ivr.web.pipeline:teardown": "the lane calls pipeline.end_request",
}
HOOK_REGISTRIES = ("url_value_preprocessors", "before_request_funcs", "after_request_funcs",
                   "teardown_request_funcs")


def flask_hooks(app: Flask) -> set[str]:
    """The hooks Flask runs for a request to the voice blueprint, as "kind module:function"."""
    found = set()
    for registry in HOOK_REGISTRIES:
        hooks = getattr(app, registry)
        for key in (None, BLUEPRINT):
            for fn in hooks.get(key, ()):
                name = getattr(fn, "__qualname__", repr(fn))
                found.add(f"{registry.removesuffix('_funcs')} {fn.__module__}:{name}")
    return found


def undeclared_hooks(app: Flask) -> list[str]:
    """What `LANE_HOOKS` misses or lists in vain; empty when the lane matches the app."""
    have = flask_hooks(app)
    return ([f"not in LANE_HOOKS: {h}" for h in sorted(have - LANE_HOOKS.keys())]
            + [f"listed in LANE_HOOKS but not registered: {h}"
               for h in sorted(LANE_HOOKS.keys() - have)])


class WebhookLane:
    """WSGI middleware: `app.wsgi_app = WebhookLane(app, app.wsgi_app)` (ivr/__init__.py).
    Refuses an app with hooks the lane does not know (`undeclared_hooks`)."""

    def __init__(self, app: Flask, flask_wsgi: Callable[..., Iterable[bytes]]) -> None:
        if problems := undeclared_hooks(app):
            raise RuntimeError(
                "the webhook lane (ivr/web/webhook_lane.py) would skip Flask hooks: "
                + "; ".join(problems) + ". Say in LANE_HOOKS what the lane does instead.")
        self.app, self.flask_wsgi = app, flask_wsgi
        # IVR_FAST_FORM: the one-pass parser, else parse_qsl (ivr/web/form_parse.py)
        self._parse_form = parse_form if app.config["IVR"].fast_form else library_form
        self.served = 0  # requests answered here, not by Flask (tests read it)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse,
                 ) -> Iterable[bytes]:
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_wsgi(environ, start_response)
        started = time.perf_counter()
        try:
            bound_body(environ, self.app.config["MAX_CONTENT_LENGTH"])
        except RequestEntityTooLarge as exc:
            return exc(environ, start_response)
        parsed = None if self._converge_due() else self._parse(environ)
        if parsed is None:
            return self.flask_wsgi(environ, start_response)
        endpoint, answer = route
        svc: Services = self.app.extensions["ivr"]
        form, args = parsed
        try:
            xml = pipeline.answer_safely(
                svc, svc.config, endpoint, environ["PATH_INFO"], call_sid(form),
                lambda: answer(svc, form, args, svc.clock()))
        finally:
            pipeline.end_request(svc)
        body = xml.encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        pipeline.observe(endpoint, 200, time.perf_counter() - started)
        self.served += 1
        return [body]

    def _converge_due(self) -> bool:
        """Flask's before-request hook looks for published flows at most once a second
        (ivr/app/flow_publisher.py converge_flows): when it is due, Flask takes the request."""
        return time.monotonic() >= self.app.extensions.get(CONVERGE_DUE, 0.0)

    def _parse(self, environ: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]] | None:
        """(form, query) of a request the lane may answer (signed, or replayed), else None;
        a repeated name reads as its first value, as Flask's `request.form.get` does. The
        body read here is put back, so Flask can read it when the lane hands it over."""
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if content_type != FORM or not length.isdigit() or int(length) > MAX_BODY:
            return None
        raw = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(raw)
        parsed = self._parse_form(raw)
        if parsed is None:
            return None
        form, first = parsed
        query = environ.get("QUERY_STRING", "")
        if not environ.get(REPLAY_KEY) and not self._signed(environ, query, form):
            return None
        if not query and self._parse_form is parse_form:
            return first, {}  # what parse_qsl makes of an empty query
        return first, FormValues.of(parse_qsl(query, keep_blank_values=True)).first()

    def _signed(self, environ: Mapping[str, Any], query: str, form: FormValues) -> bool:
        """The pipeline's one signature check (ivr/phone/twilio_auth.py is_signed), as
        Flask's."""
        token = self.app.config["IVR"].signing_token
        if token is None:
            return False  # development mode: Flask's views say so and answer unchecked
        url = signed_url(self.app.config["IVR"].public_base_url, environ["PATH_INFO"], query)
        return is_signed(token, url, form, environ.get("HTTP_X_TWILIO_SIGNATURE", ""),
                         environ.get("HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS", ""))


def call_sid(form: Mapping[str, str]) -> str:
    """As the views' `call_sid()`: the form's CallSid, at most 64 characters."""
    return (form.get("CallSid") or "")[:64]
