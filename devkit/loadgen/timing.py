"""Webhook timings as Twilio sees them: a transport wrapper for the stand-in's call legs that
records, per request, the webhook kind, the latency and whether the answer was usable.

Kinds are the path without the query (`/voice/next`, `/voice/queue/wait`, ...), so the report
reads like the app's routes. A 200 whose TwiML is the fallback apology is counted apart: the
caller was not stranded, but something inside failed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from devkit.twilio_standin.transport import Form, Transport, TransportError, WebResponse

APOLOGY = b"something went wrong on our side"
EXAMPLES = 10  # failed requests kept in full for the report


@dataclass
class Timings:
    samples: list[tuple[str, float, int]] = field(default_factory=list)  # kind, seconds, status
    fallbacks: int = 0
    in_flight: int = 0  # app requests sent and not yet answered (fault runs aim at them)
    failures: dict[str, int] = field(default_factory=dict)  # why requests failed, by kind
    examples: list[str] = field(default_factory=list)  # the first few, in full (EXAMPLES)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, delta: int) -> None:
        with self.lock:
            self.in_flight += delta

    def failed(self, kind: str, exc: Exception, seconds: float = 0.0) -> None:
        """Count a failed request by webhook and the innermost reason's type (a reset
        keep-alive connection and a timeout call for different fixes)."""
        cause: BaseException = exc
        for _ in range(10):  # a chain can loop; ten links reach the socket error
            inner = cause.__cause__ or cause.__context__
            if inner is None:
                break
            cause = inner
        key = f"{kind}: {type(cause).__name__}"
        with self.lock:
            self.failures[key] = self.failures.get(key, 0) + 1
            if len(self.examples) < EXAMPLES:
                self.examples.append(f"after {seconds * 1000:.0f} ms: {exc}")

    def add(self, kind: str, seconds: float, status: int, fallback: bool) -> None:
        with self.lock:
            self.samples.append((kind, seconds, status))
            self.fallbacks += int(fallback)


class TimedTransport:
    def __init__(self, inner: Transport, timings: Timings, app_netloc: str) -> None:
        self.inner = inner
        self.timings = timings
        self.app_netloc = app_netloc

    def request(self, method: str, url: str, form: Form | None = None,
                headers: dict[str, str] | None = None) -> WebResponse:
        parts = urlsplit(url)
        kind = parts.path if parts.netloc == self.app_netloc else "(other)"
        started = time.perf_counter()
        self.timings.started(1)
        try:
            resp = self.inner.request(method, url, form, headers)
        except TransportError as exc:
            seconds = time.perf_counter() - started
            self.timings.add(kind, seconds, 0, False)
            self.timings.failed(kind, exc, seconds)
            raise
        finally:
            self.timings.started(-1)
        if not kind.startswith("/prompts"):
            self.timings.add(kind, time.perf_counter() - started, resp.status,
                             APOLOGY in resp.body)
        return resp
