"""The stream service (ivr/live/) for tests: served on 127.0.0.1 from a thread of the test
process with its own event loop, for a Flask app the test built (its Redis, its users, its
clock), and stoppable and restartable on the same port; plus a small SSE reader.

The real process (`ivr streams`, and the child `ivr serve` starts) is tested in
tests/live/test_streams_command.py and tests/e2e/test_wallboard_streams.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import web
from flask import Flask
from flask.testing import FlaskClient

from devkit.bench.webhook import free_port
from ivr.live.running import serve_streams
from ivr.live.server import build_stream_app
from ivr.live.settings import StreamSettings, stream_settings


class StreamThread:
    """`ivr streams` for `flask_app`, in this process. `settings` defaults to those the app's
    config gives (as the command reads them)."""

    def __init__(self, flask_app: Flask, settings: StreamSettings | None = None,
                 port: int = 0, compute: Callable[[], dict[str, Any]] | None = None) -> None:
        self.flask_app, self.compute = flask_app, compute
        self.settings = settings or stream_settings(flask_app.config["IVR"])
        self.port = port or free_port()
        self.thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.app: web.Application | None = None  # the aiohttp application, once started

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StreamThread:
        ready, failed = threading.Event(), []

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self.app = app = build_stream_app(self.flask_app, self.settings,
                                              compute=self.compute)
            await serve_streams(app, "127.0.0.1", self.port, self._stop,
                                on_ready=lambda _port: ready.set())

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failed.append(exc)
                ready.set()

        self.thread = threading.Thread(target=run, name="test-stream-service", daemon=True)
        self.thread.start()
        assert ready.wait(30), "the stream service did not start"
        assert not failed, failed
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self.thread is not None:
            self.thread.join(30)
            assert not self.thread.is_alive(), "the stream service did not stop"

    def tasks(self) -> int:
        """How many asyncio tasks the service's loop holds now (asked on that loop)."""
        async def count() -> int:
            return len(asyncio.all_tasks())

        assert self._loop is not None, "not started"
        return asyncio.run_coroutine_threadsafe(count(), self._loop).result(10)

    def health(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/healthz", timeout=10).json()


def serve_pages_with_streams(app: Flask, pages_base: str) -> StreamThread:
    """Start the stream service for `app`, whose pages are served at `pages_base`, and point
    the pages at it, as `ivr serve` does: IVR_STREAM_URL names the service, and the pages'
    origin is one it accepts (IVR_WEB_ORIGINS)."""
    config = app.config["IVR"]
    config = config.with_overrides(web_origins=pages_base)
    service = StreamThread(app, stream_settings(config))
    config = config.with_overrides(stream_url=service.base)
    app.config["IVR"] = app.extensions["ivr"].config = config
    return service.start()


def session_cookie(client: FlaskClient) -> str:
    """The `Cookie:` header a browser signed in with `client`'s session would send."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "not signed in"
    return f"session={cookie.value}"


@dataclass
class Stream:
    """One open event stream, read line by line (requests, as a client would)."""

    response: requests.Response
    lines: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = self.response.iter_lines(decode_unicode=True)

    def next_board(self) -> tuple[int, dict[str, Any]]:
        """The next board message: (its id, the board); `fresh` events are skipped."""
        event_id, event = 0, ""
        for line in self.lines:
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                event = ""
            elif line.startswith("data: "):
                return event_id, json.loads(line[6:])
        raise AssertionError("the stream ended")

    def next_fresh(self) -> dict[str, Any]:
        """The next `fresh` event's data (how old the last good board is)."""
        event = ""
        for line in self.lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "fresh":
                return dict(json.loads(line[6:]))
        raise AssertionError("the stream ended")

    def ended(self) -> bool:
        """Read to the end (True), or False if the stream is still going when the read
        times out."""
        try:
            for _ in self.lines:
                pass
        except requests.exceptions.ConnectionError:  # read timeout while streaming
            return False
        return True

    def close(self) -> None:
        self.response.close()


def open_stream(base: str, cookie: str = "", origin: str | None = None,
                read_timeout: float = 30) -> requests.Response:
    headers = {"Accept": "text/event-stream"}
    if cookie:
        headers["Cookie"] = cookie
    if origin:
        headers["Origin"] = origin
    return requests.get(f"{base}/wallboard/events", headers=headers, stream=True,
                        timeout=(10, read_timeout))
