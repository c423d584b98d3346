"""`make_rest_client()`: a real `twilio.rest.Client` whose requests go to the local stand-in.

twilio 9 builds every URL as https://<product>.twilio.com/...; rather than patching each
domain's `base_url`, a `TwilioHttpClient` subclass (the documented `http_client=` hook) swaps
the scheme and host of any *.twilio.com URL for the stand-in's base, keeping path and query. So
the product's own REST code runs unchanged in development and tests.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


def rewrite_url(url: str, api_base: str) -> str:
    """https://api.twilio.com/2010-04-01/... -> {api_base}/2010-04-01/...; other hosts kept."""
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith("twilio.com"):
        return url
    base = urlsplit(api_base.rstrip("/"))
    return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))


class StandInHttpClient(TwilioHttpClient):
    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, rewrite_url(url, self.api_base), *args, **kwargs)


def make_rest_client(api_base: str, account_sid: str, auth_token: str) -> Client:
    """A `twilio.rest.Client` talking to the stand-in at `api_base` (e.g.
    http://127.0.0.1:8081, from env TWILIO_API_BASE)."""
    return Client(account_sid, auth_token, http_client=StandInHttpClient(api_base, timeout=10))
