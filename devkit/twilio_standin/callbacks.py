"""Callbacks that belong to no single webhook exchange of a leg (conference status events,
REST recording status): Twilio sends them on its own, asynchronously, in the order they
happened. One sender thread per stand-in keeps that order and never blocks the thread that
caused the event (a REST handler answering the app, or a leg).

Each callback is signed with the auth token. What happened goes into the transcript of the leg
it is about (when there is one) and into `sent` (for `/sim/conferences`)."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devkit.twilio_standin.signing import signature_header
from devkit.twilio_standin.transport import Transport, TransportError

Params = tuple[tuple[str, str], ...]
SENT_KEPT = 10_000  # the callbacks /sim/conferences shows (a soak sends millions)


@dataclass(frozen=True)
class Callback:
    url: str
    method: str
    params: Params
    label: str
    leg: Any = None  # the CallLeg whose transcript notes it, or None


class CallbackSender:
    """A queue and one daemon thread (started on first use). `drain()` waits until every
    queued callback has had its answer (tests)."""

    def __init__(self, transport: Callable[[], Transport], auth_token: str | None) -> None:
        self._make_transport = transport
        self._token = auth_token
        self._queue: queue.Queue[Callback] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.sent: deque[dict[str, Any]] = deque(maxlen=SENT_KEPT)

    def post(self, callback: Callback) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="standin-callbacks",
                                                daemon=True)
                self._thread.start()
        self._queue.put(callback)

    def drain(self, timeout: float = 10.0) -> None:
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        done.wait(timeout)

    def _run(self) -> None:
        transport = self._make_transport()
        while True:
            callback = self._queue.get()
            try:
                self._send(transport, callback)
            except Exception as exc:  # a stand-in bug must not stop every later callback
                self._note(callback, "error", f"{callback.label}: stand-in failed: {exc!r}")
            finally:
                self._queue.task_done()

    def _send(self, transport: Transport, callback: Callback) -> None:
        form: list[tuple[str, str]] | None = list(callback.params)
        url = callback.url
        if callback.method == "GET":
            from urllib.parse import urlencode

            url += ("&" if "?" in url else "?") + urlencode(form or [])
            form = None
        headers = signature_header(self._token, url, form)
        try:
            resp = transport.request(callback.method, url, form, headers)
        except TransportError as exc:
            self._record(callback, None)
            self._note(callback, "error", f"{callback.label}: app unreachable ({exc})")
            return
        self._record(callback, resp.status)
        if callback.leg is not None:
            callback.leg.note("twilio", "request", f"{callback.method} {callback.label}",
                              url=callback.url, status=resp.status)
        if not 200 <= resp.status < 300:
            self._note(callback, "error", f"{callback.label} answered HTTP {resp.status}")

    def _record(self, callback: Callback, status: int | None) -> None:
        with self._lock:
            self.sent.append({"url": callback.url, "label": callback.label,
                              "params": dict(callback.params), "status": status})

    def _note(self, callback: Callback, kind: str, text: str) -> None:
        if callback.leg is not None:
            callback.leg.note("twilio", kind, text, url=callback.url)
