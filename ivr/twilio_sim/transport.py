"""How the simulator's webhooks reach the app: over real HTTP, or in-process through a Flask
test client. Both answer the same small `Transport` protocol, so a CallLeg runs the same code
in unit tests and against a running server.

A transport sends one request and never follows redirects: the leg follows them itself (at
most 10, as Twilio does) and signs each hop for the URL it actually requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

Form = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class WebResponse:
    """One HTTP answer. `headers` keys are lower case."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Transport(Protocol):
    def request(self, method: str, url: str, form: Form | None = None,
                headers: dict[str, str] | None = None) -> WebResponse:
        """Send one request; connection failures raise `TransportError`."""
        ...


class TransportError(Exception):
    """The app could not be reached at all (refused, timed out, DNS)."""


class HttpTransport:
    """Real HTTP with `requests` (a twilio dependency). One session per transport, because
    Twilio keeps cookies across the webhooks of one call (WEBHOOKS.md 3.1)."""

    def __init__(self, timeout: float = 15.0) -> None:
        import requests

        self._requests = requests
        self._session = requests.Session()
        self._timeout = timeout

    def request(self, method: str, url: str, form: Form | None = None,
                headers: dict[str, str] | None = None) -> WebResponse:
        try:
            resp = self._session.request(
                method, url, data=list(form or []) if method != "GET" else None,
                headers={"User-Agent": "TwilioProxy/1.1", **(headers or {})},
                allow_redirects=False, timeout=self._timeout)
        except self._requests.RequestException as exc:
            raise TransportError(f"{method} {url}: {exc}") from exc
        return WebResponse(resp.status_code, resp.content,
                           {k.lower(): v for k, v in resp.headers.items()})


class FlaskTransport:
    """In-process: the request goes through `app.test_client()` with the URL's scheme and
    host as base_url, so the app sees the same URL (and checks the same signature) as over
    HTTP."""

    def __init__(self, app: Any) -> None:
        self._client = app.test_client()

    def request(self, method: str, url: str, form: Form | None = None,
                headers: dict[str, str] | None = None) -> WebResponse:
        from werkzeug.datastructures import MultiDict

        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        resp = self._client.open(
            path, method=method, base_url=f"{parts.scheme}://{parts.netloc}",
            data=MultiDict(list(form or [])) if method != "GET" else None,
            headers={"User-Agent": "TwilioProxy/1.1", **(headers or {})})
        return WebResponse(resp.status_code, resp.get_data(),
                           {k.lower(): v for k, v in resp.headers.items()})
