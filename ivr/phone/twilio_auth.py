"""Verify that a webhook really comes from Twilio (`X-Twilio-Signature`), so a forged one gets 403.

Owns the rebuild of the public URL Twilio signed: `PUBLIC_BASE_URL` + path + query, because
behind a TLS proxy Flask's `request.url` (http://127.0.0.1:...) is not what Twilio requested
(../shared/twiml/WEBHOOKS.md section 4). The HMAC itself is Twilio's own `RequestValidator`,
which also handles the port variants, repeated parameters, JSON bodies (`bodySHA256`) and the
2026 shared-key algorithm header. Must not import the flow engine or the stores.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Request, abort, current_app, request
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    RequestValidator,
    get_signature_algorithm,
)

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
# The algorithms twilio's validator computes; its compute_signature raises ValueError on any
# other, which made an unsigned request naming one a 500 (issue 12, item 7b).
KNOWN_ALGORITHMS = frozenset({HMAC_SHA1, HMAC_SHA256})

# Set in the WSGI environ of a webhook replayed by the VoiceFallbackUrl route (ivr/web/
# fallback.py) after it checked the fallback request's own signature. A client cannot set it:
# HTTP headers only ever reach the environ as HTTP_* keys.
REPLAY_KEY = "ivr.fallback_replay"


def public_url(req: Request, base_url: str) -> str:
    """The URL Twilio requested: the configured public origin plus the path and raw query."""
    return signed_url(base_url, req.path, req.query_string.decode("latin-1"))


def signed_url(base_url: str, path: str, query: str) -> str:
    """`public_url` from its parts (the webhook lane has a WSGI environ, not a Request)."""
    return base_url.rstrip("/") + path + (f"?{query}" if query else "")


class FormValues(dict[str, list[str]]):
    """A url-encoded form's values by name, in the order sent, read by twilio's validator the
    way it reads Flask's MultiDict (`getall`), at half a MultiDict's cost (the webhook lane,
    which parses the form itself)."""

    getall = dict.__getitem__

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> FormValues:
        values = cls()
        for name, value in pairs:
            values.setdefault(name, []).append(value)
        return values

    def first(self) -> dict[str, str]:
        """As Flask's `request.form.get` reads a repeated name: its first value."""
        return {name: values[0] for name, values in self.items()}


def is_signed(token: str, url: str, params: Any, signature: str, settings: str = "") -> bool:
    """The one signature check, for the Flask views and the webhook lane alike: True when
    `signature` (the X-Twilio-Signature header) is what Twilio computes for `url` and
    `params` with `token`, under the algorithm `settings` names (the X-Twilio-Webhooks-
    Signature-Settings header; none is HMAC-SHA1). `params`: the form as a MultiDict or
    `FormValues` (repeated names are signed with getall) or a dict, or a JSON body as a
    string (`url` then carries its bodySHA256). An empty signature or an unknown algorithm
    is False, never an error."""
    if not signature:
        return False
    algorithm = get_signature_algorithm(settings)
    if algorithm.upper() not in KNOWN_ALGORITHMS:
        log.warning("webhook names an unknown signature algorithm %r: refused", algorithm[:40])
        return False
    validator = _validator(token)
    if not isinstance(params, str):
        # Fast path: the URL exactly as Twilio requested it, one HMAC. Twilio's validate()
        # always computes two (with and without the port); it stays the slow path, so what
        # it accepts is still accepted.
        expected = validator.compute_signature(url, params, algorithm)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
    return bool(validator.validate(url, params, signature, algorithm=algorithm))


def is_signed_by_twilio(req: Request, token: str, base_url: str) -> bool:
    """`is_signed` for a Flask request: the public URL Twilio requested and what it signed
    (the form of a POST; the body of a JSON request, which must name its bodySHA256)."""
    if req.mimetype == "application/json":
        if "bodySHA256" not in req.args:
            return False  # Twilio signs a JSON body by its hash; twilio's validator crashes
        params: Any = req.get_data(as_text=True)
    elif req.method == "POST":
        params = req.form
    else:
        params = {}
    return is_signed(token, public_url(req, base_url), params,
                     req.headers.get("X-Twilio-Signature", ""),
                     req.headers.get("X-Twilio-Webhooks-Signature-Settings", ""))


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_webhook(view: F) -> F:
    """Decorator for every webhook: 403 unless signed, except in explicit development mode."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        config = current_app.config["IVR"]
        token = config.signing_token
        if request.environ.get(REPLAY_KEY):
            return view(*args, **kwargs)
        if token is None:
            if not config.dev_mode:  # pragma: no cover - create_app refuses this config
                abort(403)
        elif not is_signed_by_twilio(request, token, config.public_base_url):
            log.warning("forged or mis-signed webhook refused: %s %s", request.method, request.path)
            abort(403)
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]
