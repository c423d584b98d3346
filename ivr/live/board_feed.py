"""One producer of the wallboard for every open stream (fan-out).

The Flask stream it replaces computed the whole board once a second per screen: Redis reads
per queue and agent, and the database every 10 s, times the screens. Here one coroutine asks
ONE named worker thread for the board once a second (`dashboards.wallboard.board()`, inside
the Flask app's context, because it reads `services()` and the app's caches), turns it into
the SSE message once, and every stream writes those same bytes. The cost is flat in the
number of screens; `computed` counts the computations (`/healthz` shows it, tests read it).

Nothing is computed while no stream is open. A board that has not changed since the last one
(apart from its timestamp) is not sent again: streams send a `fresh` event instead, saying
how old the last good computation is (`fresh_at`), so a page tells an unchanged board from a
stale one (issue 16: data older than a few seconds is marked stale on the page).
Must not import aiohttp: the feed is plain asyncio, the server (server.py) is the HTTP side.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

log = logging.getLogger(__name__)
INTERVAL = 1.0  # seconds between computations: a caller joining shows within about a second
QUIET_LOG = 60.0  # a failing board is logged at most this often (Redis down: once a minute)

Rendered = tuple[str, str]  # (what is compared: the board without its time, the JSON sent)


def render(board: dict[str, Any]) -> Rendered:
    """The board as sent (JSON) and as compared: a board whose only change is its `at` time is
    the same board, as the Flask stream judged it."""
    shown = json.dumps({k: v for k, v in board.items() if k != "at"}, sort_keys=True)
    return shown, json.dumps(board)


class BoardFeed:
    """The latest board message and a way to wait for the next one. Create and run it inside
    the event loop that serves the streams; `compute` runs on `executor` (one thread)."""

    def __init__(self, compute: Callable[[], dict[str, Any]], executor: Executor,
                 interval: float = INTERVAL) -> None:
        self._compute, self._executor, self.interval = compute, executor, interval
        self.seq = 0  # number of the latest message (the SSE `id:`)
        self.latest: bytes | None = None  # None until computed for the current listeners
        self.computed = 0  # board computations since start
        self.fresh_at: float | None = None  # wall time of the last board computed without error
        self.listeners = 0
        self.stopping = False
        self._shown: str | None = None
        self._changed = asyncio.Condition()
        self._wake = asyncio.Event()
        self._failed_at = -QUIET_LOG

    def listen(self) -> None:
        """A stream starts: the producer runs while anyone listens. Only the first listener
        wakes it; later ones take the next board with everyone else (no extra computation)."""
        self.listeners += 1
        if self.listeners == 1:
            self._wake.set()

    def leave(self) -> None:
        self.listeners -= 1

    async def next_after(self, seen: int, timeout: float) -> tuple[int, bytes] | None:
        """The first message numbered after `seen` (at once if there is one), or None when
        none comes within `timeout` seconds or the feed stops."""

        def ready() -> bool:
            return self.stopping or (self.latest is not None and self.seq > seen)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                return None
        if self.stopping or self.latest is None:
            return None
        return self.seq, self.latest

    async def stop(self) -> None:
        self.stopping = True
        self._wake.set()
        async with self._changed:
            self._changed.notify_all()

    async def run(self) -> None:
        """The producer: once per `interval` while anyone listens, until `stop()`."""
        while not self.stopping:
            if self.listeners <= 0:
                self.latest, self._shown = None, None  # the next listener gets a fresh board
                self._wake.clear()
                await self._wake.wait()
                continue
            started = time.monotonic()
            await self._produce()
            await self._pause(self.interval - (time.monotonic() - started))

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        try:  # cut short only by stop() (or by everyone leaving and someone coming back)
            await asyncio.wait_for(self._wake.wait(), max(0.0, seconds))
        except TimeoutError:
            pass

    async def _produce(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            shown, sent = await loop.run_in_executor(self._executor, self._rendered)
        except Exception:  # noqa: BLE001 - Redis or a bug: streams go on with heartbeats
            if time.monotonic() - self._failed_at >= QUIET_LOG:
                self._failed_at = time.monotonic()
                log.exception("wallboard stream: the board could not be computed")
            return
        self.fresh_at = time.time()
        if shown == self._shown and self.latest is not None:
            return
        self.seq += 1
        self._shown = shown
        self.latest = f"id: {self.seq}\ndata: {sent}\n\n".encode()
        async with self._changed:
            self._changed.notify_all()

    def _rendered(self) -> Rendered:
        """On the board thread: compute and serialise (the JSON work stays off the loop).
        Counted once done, so a count read before a change cannot include a computation that
        was still reading when the change was made (the fan-out test compares counts)."""
        try:
            return render(self._compute())
        finally:
            self.computed += 1
