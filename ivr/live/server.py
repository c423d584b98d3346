"""The stream service's HTTP side (aiohttp): `GET /wallboard/events` and `GET /healthz`.

`/wallboard/events` speaks the format the wallboard page has always read: a `retry:` line,
`id:` + `data: <board JSON>` whenever the board changes, and otherwise every FRESH_EVERY
seconds an `event: fresh` whose data is `{"age": seconds}`, how old the last board computed
without error is (null before the first). It keeps proxies and the browser seeing the socket
alive, as the old `: heartbeat` comment did, and lets the page mark figures stale when the
board has not been computed for a few seconds (Redis down) while the stream still runs; the
age is measured here, so the screen's clock does not matter. Before a stream starts:

- an `Origin` other than the pages' (settings.py) gets 403 and no CORS headers; an allowed one
  gets `Access-Control-Allow-Origin: <that origin>` with credentials (never `*`), so the page
  can open the stream from another port with `withCredentials`;
- with `max_clients` streams open, 503 and `Retry-After`;
- no valid session: 401; signed in without the supervisor (or admin) role: 403; allowed:
  the stream's response carries the session's refreshed cookie, as a page's would.

An open stream re-checks its session every `recheck_seconds` and ends when the session no
longer holds (user deleted, role changed, or revoked by the auth rules); it also ends after
`stream_seconds` (IVR_STREAM_SECONDS; the browser reconnects by itself, which spreads screens
over restarted or added stream processes) and when the service stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from flask import Flask

from dashboards.wallboard import board
from ivr.live.board_feed import BoardFeed
from ivr.live.settings import RETRY_AFTER, StreamSettings
from ivr.live.stream_auth import STREAM_PATH, SessionChecker, Verdict

log = logging.getLogger(__name__)
FRESH_EVERY = 2.0  # seconds: a page marks its figures stale after a few without word
RETRY = b"retry: 2000\n\n"
MESSAGES = {
    Verdict.SIGN_IN: "sign in first (the wallboard page's session cookie)",
    Verdict.FORBIDDEN: "the wallboard needs the role supervisor",
}


@dataclass
class Live:
    """What the handlers share: one per stream service."""

    settings: StreamSettings
    feed: BoardFeed
    sessions: SessionChecker
    clients: int = 0  # streams open or being checked (the cap counts both)
    stopping: bool = False


LIVE = web.AppKey("ivr_live", Live)


def cors_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """CORS for the pages' origins only, with credentials; nothing for anyone else."""
    if not origin or origin not in allowed:
        return {"Vary": "Origin"}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin"}


async def events(request: web.Request) -> web.StreamResponse:
    live = request.app[LIVE]
    origin = request.headers.get("Origin")
    if origin and origin not in live.settings.origins:
        return web.Response(status=403, text=f"origin {origin} may not read the wallboard")
    cors = cors_headers(origin, live.settings.origins)
    if live.clients >= live.settings.max_clients or live.stopping:
        return web.Response(status=503, headers={"Retry-After": str(RETRY_AFTER), **cors},
                            text="too many wallboard streams open: try again shortly")
    live.clients += 1
    try:
        return await _checked_stream(request, live, cors)
    finally:
        live.clients -= 1


async def _checked_stream(request: web.Request, live: Live,
                          cors: dict[str, str]) -> web.StreamResponse:
    admission = await live.sessions.admit(request.headers.get("Cookie", ""))
    if admission.verdict is not Verdict.ALLOWED:
        return web.Response(status=admission.verdict.value, headers=cors,
                            text=MESSAGES[admission.verdict])
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no", **cors})
    for cookie in admission.set_cookie:  # the session, touched: a wall screen is in use
        response.headers.add("Set-Cookie", cookie)
    await response.prepare(request)
    await response.write(RETRY)
    live.feed.listen()
    try:
        await _pump(response, live, admission.session)
    except ConnectionResetError:
        pass  # the screen went away mid-write
    finally:
        live.feed.leave()
    return response


async def _pump(response: web.StreamResponse, live: Live, session: dict[str, Any]) -> None:
    """Board messages, `fresh` events and session re-checks until the stream is due to end."""
    started = last_write = time.monotonic()
    ends = started + live.settings.stream_seconds
    next_check = started + live.settings.recheck_seconds
    seen = 0
    while not live.stopping:
        now = time.monotonic()
        if now >= ends:
            return
        if now >= next_check:
            if not await live.sessions.still_allowed(session):
                log.info("wallboard stream ended: its session no longer holds")
                return
            next_check = time.monotonic() + live.settings.recheck_seconds
        wait = min(last_write + FRESH_EVERY, next_check, ends) - now
        got = await live.feed.next_after(seen, max(0.01, wait))
        if got is not None:
            seen, body = got
            await response.write(body)
            last_write = time.monotonic()
        elif time.monotonic() - last_write >= FRESH_EVERY and not live.stopping:
            await response.write(fresh_event(live.feed.fresh_at, time.time()))
            last_write = time.monotonic()


def fresh_event(fresh_at: float | None, now: float) -> bytes:
    """The `fresh` event: how many seconds ago the board was last computed without error."""
    age = None if fresh_at is None else round(max(0.0, now - fresh_at), 1)
    return f"event: fresh\ndata: {json.dumps({'age': age})}\n\n".encode()


async def health(request: web.Request) -> web.Response:
    """Up, and what it is doing: open streams and board computations so far (fan-out makes
    the latter grow with time, not with screens)."""
    live = request.app[LIVE]
    return web.json_response({"ok": not live.stopping, "clients": live.clients,
                              "max_clients": live.settings.max_clients,
                              "boards_computed": live.feed.computed, "board": live.feed.seq})


def build_stream_app(flask_app: Flask, settings: StreamSettings,
                     compute: Callable[[], dict[str, Any]] | None = None,
                     interval: float | None = None) -> web.Application:
    """The aiohttp application for `flask_app`'s wallboard. `compute` defaults to
    `dashboards.wallboard.board()` now, in the Flask app's context. The pools are bounded and
    named: ONE board thread, `auth_threads` session checkers (threads start on first use)."""
    board_pool = ThreadPoolExecutor(1, thread_name_prefix="ivr-stream-board")
    auth_pool = ThreadPoolExecutor(settings.auth_threads, thread_name_prefix="ivr-stream-auth")
    feed = BoardFeed(compute or _board_of(flask_app), board_pool,
                     **({"interval": interval} if interval else {}))
    app = web.Application()
    app[LIVE] = Live(settings, feed, SessionChecker(flask_app, auth_pool))
    app.router.add_get(STREAM_PATH, events)
    app.router.add_get("/healthz", health)
    app.cleanup_ctx.append(_producer)
    app.on_shutdown.append(_stopping)
    app.on_cleanup.append(lambda _app: _shutdown_pools(board_pool, auth_pool))
    return app


def _board_of(flask_app: Flask) -> Callable[[], dict[str, Any]]:
    def compute() -> dict[str, Any]:
        with flask_app.app_context():
            return board(time.time())

    return compute


async def _producer(app: web.Application) -> AsyncIterator[None]:
    """The feed's producer task, for as long as the application runs."""
    feed = app[LIVE].feed
    task = asyncio.create_task(feed.run(), name="ivr-stream-producer")
    try:
        yield
    finally:
        await feed.stop()
        await task


async def _shutdown_pools(*pools: ThreadPoolExecutor) -> None:
    for pool in pools:
        pool.shutdown(wait=True)


async def _stopping(app: web.Application) -> None:
    """Shutting down: open streams end now (the browser reconnects elsewhere or later)."""
    live = app[LIVE]
    live.stopping = True
    await live.feed.stop()
