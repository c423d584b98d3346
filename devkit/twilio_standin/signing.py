"""X-Twilio-Signature, computed exactly as Twilio computes it (WEBHOOKS.md section 4).

Owns the signing algorithm only: no HTTP, no Flask. The stand-in signs every webhook it sends
with this, so the product's real signature check runs in development and tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

Params = Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]] | None


def compute_signature(auth_token: str, url: str, params: Params = None) -> str:
    """Base64 HMAC-SHA1 of `url` followed by the sorted form parameters.

    `url` is the full URL as requested, query string included, port kept as given. `params`
    are the POST form fields (None or empty for GET). Names are sorted by byte order; a name
    with several values contributes each distinct value once, sorted, as both SDKs do
    (`Digits=5678&Digits=1234&Digits=1234` signs `Digits1234Digits5678`)."""
    data = url + "".join(name + value for name, value in _sorted_pairs(params))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _sorted_pairs(params: Params) -> list[tuple[str, str]]:
    grouped: dict[str, set[str]] = {}
    for name, value in _pairs(params):
        grouped.setdefault(name, set()).add(value)
    return [(name, value) for name in sorted(grouped) for value in sorted(grouped[name])]


def _pairs(params: Params) -> Iterable[tuple[str, str]]:
    if not params:
        return []
    if isinstance(params, Mapping):
        getlist = getattr(params, "getlist", None)
        if getlist is not None:  # werkzeug MultiDict
            return [(k, v) for k in params for v in getlist(k)]
        return [(k, v) for k, vs in params.items()
                for v in ([vs] if isinstance(vs, str) else vs)]
    return list(params)


def body_sha256(body: str | bytes) -> str:
    """Hex SHA-256 of a raw JSON body, the `bodySHA256` query parameter Twilio adds."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(raw).hexdigest()


def sign_json_request(auth_token: str, url: str, body: str | bytes) -> tuple[str, str]:
    """For a JSON-body webhook: the URL with `bodySHA256` appended, and its signature (which
    covers the URL only, no body parameters)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("bodySHA256", body_sha256(body)))
    signed_url = urlunsplit(parts._replace(query=urlencode(query)))
    return signed_url, compute_signature(auth_token, signed_url)


def signature_header(auth_token: str | None, url: str, params: Params = None) -> dict[str, str]:
    """The header dict to send with a webhook; empty when there is no token (dev mode)."""
    if not auth_token:
        return {}
    return {"X-Twilio-Signature": compute_signature(auth_token, url, params)}
