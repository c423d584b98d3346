"""How the simulator's webhooks reach the app: over real HTTP, or in-process through a Flask
test client. Both answer the same small `Transport` protocol, so a CallLeg runs the same code
in unit tests and against a running server.

A transport sends one request and never follows redirects: the leg follows them itself (at
most 10, as Twilio does) and signs each hop for the URL it actually requests.
"""

from __future__ import annotations

import time
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


# A kept-alive connection idle longer than this is not used again: a fresh one is opened.
# A server closes an idle connection at its keep-alive timeout even when a request is
# arriving on it at that instant (gunicorn's gthread worker closes it between two polls and
# the request gets a reset: ConnectionResetError or RemoteDisconnected, 1 webhook in ~1,400 in
# `ivr bench soak`). Staying below the shortest server timeout the stand-in meets - gunicorn's
# default 2 s, the project's gunicorn.conf.py 5 s - removes the race, as browsers and Go's
# http client do with their idle-connection timeouts.
IDLE_REUSE_LIMIT = 1.0  # seconds


class HttpTransport:
    """Real HTTP with `requests` (a twilio dependency). One session per transport, because
    Twilio keeps cookies across the webhooks of one call (WEBHOOKS.md 3.1). Its connections
    are reused while they have been idle at most `idle_limit` seconds (IDLE_REUSE_LIMIT)."""

    def __init__(self, timeout: float = 15.0, idle_limit: float = IDLE_REUSE_LIMIT) -> None:
        import requests

        self._requests = requests
        self._session = requests.Session()
        self._timeout = timeout
        self._idle_limit = idle_limit
        self._last_answer: float | None = None

    def request(self, method: str, url: str, form: Form | None = None,
                headers: dict[str, str] | None = None) -> WebResponse:
        self._drop_idle_connections()
        try:
            resp = self._session.request(
                method, url, data=list(form or []) if method != "GET" else None,
                headers={"User-Agent": "TwilioProxy/1.1", **(headers or {})},
                allow_redirects=False, timeout=self._timeout)
        except self._requests.RequestException as exc:
            raise TransportError(f"{method} {url}: {exc}") from exc
        finally:
            self._last_answer = time.monotonic()
        return WebResponse(resp.status_code, resp.content,
                           {k.lower(): v for k, v in resp.headers.items()})

    def _drop_idle_connections(self) -> None:
        """Close the pooled connections when they have been idle past the limit (the
        session's cookies stay; its next request connects afresh)."""
        last = self._last_answer
        if last is not None and time.monotonic() - last > self._idle_limit:
            self._session.close()


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
