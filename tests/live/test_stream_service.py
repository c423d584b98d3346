"""The stream service (ivr/live/) over real HTTP, on the test's real Redis and SQLite users:
who may open a stream (the page's own session cookie, checked the pages' way), which page
origins may read it, one board computation shared by every screen, the cap on open streams,
a stream ending once its session no longer holds, and the Flask app no longer streaming."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from flask import Flask

from dashboards.auth import user_engine
from dashboards.wallboard import board
from ivr import create_app
from ivr.live.server import LIVE
from ivr.store.users import save_user
from tests.signin import PASSWORD, login_token, pages_app, signed_in
from tests.stream_service import Stream, StreamThread, open_stream, session_cookie

WEB = "http://127.0.0.1:5999"  # the origin the pages are served from (IVR_WEB_ORIGINS)


@pytest.fixture
def app(redis_url: str, redis, tmp_path: Path) -> Flask:  # noqa: ARG001 - redis flushes
    return pages_app(redis_url, tmp_path, {"carol": "agent", "sue": "supervisor",
                                           "ada": "admin"},
                     public_base_url="https://ivr.example.test", web_origins=WEB,
                     stream_recheck="0.5")


@pytest.fixture
def streams(app: Flask) -> Iterator[StreamThread]:
    service = StreamThread(app).start()
    try:
        yield service
    finally:
        service.stop()


def wait_until(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_only_signed_in_supervisors_and_admins_get_the_board(app: Flask, streams):
    assert open_stream(streams.base).status_code == 401
    assert open_stream(streams.base, "session=forged.value.here").status_code == 401
    assert open_stream(streams.base, session_cookie(signed_in(app, "carol"))).status_code == 403
    for name in ("sue", "ada"):
        response = open_stream(streams.base, session_cookie(signed_in(app, name)))
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        stream = Stream(response)
        assert next(stream.lines) == "retry: 2000"
        _, board = stream.next_board()
        assert [q["queue"] for q in board["queues"]] == ["billing", "sales", "support"]
        stream.close()


def test_only_the_pages_origins_may_read_it_with_credentials(app: Flask, streams):
    cookie = session_cookie(signed_in(app, "sue"))
    refused = open_stream(streams.base, cookie, origin="https://evil.example")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    for origin in (WEB, "https://ivr.example.test"):  # IVR_WEB_ORIGINS, PUBLIC_BASE_URL's
        allowed = open_stream(streams.base, cookie, origin=origin)
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == origin
        assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
        allowed.close()
    anonymous = open_stream(streams.base, origin=WEB)  # the page can read why it was refused
    assert (anonymous.status_code, anonymous.headers["Access-Control-Allow-Origin"]) == (401, WEB)


def test_an_unchanged_board_is_vouched_for_every_few_seconds(app: Flask):
    """No board message while nothing changes, but a `fresh` event every FRESH_EVERY seconds
    with the age of the last good computation (the page marks figures stale from it); a
    board that cannot be computed any more ages."""
    boards = [{"queues": [], "agents": []}]

    def compute() -> dict[str, object]:
        if not boards:
            raise ConnectionError("Redis went away")
        return boards[0]

    service = StreamThread(app, compute=compute).start()
    try:
        stream = Stream(open_stream(service.base, session_cookie(signed_in(app, "sue"))))
        stream.lines = stream.response.iter_lines(chunk_size=1, decode_unicode=True)
        stream.next_board()
        started = time.monotonic()
        for _ in range(2):
            assert stream.next_fresh()["age"] < 2.5
        assert time.monotonic() - started < 8  # one each FRESH_EVERY (2 s), plus slack
        boards.clear()
        ages = [stream.next_fresh()["age"] for _ in range(3)]
        assert ages[-1] >= 4, ages
        stream.close()
    finally:
        service.stop()


def test_ten_screens_share_one_board_computation(app: Flask):
    """Each computation waits for a token from the test, so the count is exact: two boards
    for ten screens take two computations (a computation per screen would leave nine screens
    without a board, and their reads time out)."""
    gate, finished = threading.Semaphore(0), []

    def compute() -> dict:
        assert gate.acquire(timeout=120), "the test released no computation"
        with app.app_context():
            result = board(time.time())
        finished.append(result)
        return result

    service = StreamThread(app, compute=compute).start()
    cookie = session_cookie(signed_in(app, "sue"))
    screens = [Stream(open_stream(service.base, cookie)) for _ in range(10)]
    try:
        wait_until(lambda: service.health()["clients"] == 10)
        gate.release()
        assert {screen.next_board()[0] for screen in screens} == {1}
        assert len(finished) == 1
        app.extensions["ivr"].queue_engine.join("CA" + "1" * 32, "support", time.time())
        gate.release()
        assert {screen.next_board()[0] for screen in screens} == {2}  # the same message
        assert len(finished) == 2
        assert [q["waiting"] for q in finished[1]["queues"] if q["queue"] == "support"] == [1]
    finally:
        gate.release(1000)  # the producer's next computation must not hold up the stop
        for screen in screens:
            screen.close()
        service.stop()


def test_streams_over_the_cap_get_503_with_retry_after(app: Flask):
    settings = replace(StreamThread(app).settings, max_clients=3)
    service = StreamThread(app, settings).start()
    try:
        cookie = session_cookie(signed_in(app, "sue"))
        screens = [Stream(open_stream(service.base, cookie)) for _ in range(3)]
        for screen in screens:
            screen.next_board()
        over = open_stream(service.base, cookie)
        assert over.status_code == 503
        assert int(over.headers["Retry-After"]) > 0
        screens.pop().close()
        wait_until(lambda: service.health()["clients"] == 2)
        again = open_stream(service.base, cookie)
        assert again.status_code == 200
        again.close()
        for screen in screens:
            screen.close()
    finally:
        service.stop()


def test_streams_end_after_their_lifetime_and_reconnections_leave_nothing_behind(app: Flask):
    """A screen's stream ends after IVR_STREAM_SECONDS and the screen reconnects (every 5
    minutes, all day): each reconnection's slot, feed listener and tasks go away with it
    (issue 12's soak looked for state kept per reconnection)."""
    settings = replace(StreamThread(app).settings, stream_seconds=0.3)
    service = StreamThread(app, settings).start()
    try:
        # `Connection: close`: the server, not this client's garbage collector, closes each
        # connection when its stream ends (else aiohttp keeps it alive for the next request)
        headers = {"Cookie": session_cookie(signed_in(app, "sue")), "Connection": "close"}
        idle = service.tasks()
        for _ in range(20):
            stream = Stream(requests.get(f"{service.base}/wallboard/events", stream=True,
                                         headers=headers, timeout=(10, 20)))
            assert stream.response.status_code == 200
            assert next(stream.lines) == "retry: 2000"
            assert stream.ended()  # the server ended it, well before the read timeout
        wait_until(lambda: service.health()["clients"] == 0)
        assert service.app is not None
        assert service.app[LIVE].feed.listeners == 0
        wait_until(lambda: service.tasks() == idle)  # each connection's handler ended
    finally:
        service.stop()


def test_opening_a_stream_refreshes_the_session_cookie_as_a_page_does(app: Flask, streams):
    """A wall screen reconnects every few minutes: that keeps its session from going idle
    (the absolute lifetime still ends it), as when Flask served the stream."""
    response = open_stream(streams.base, session_cookie(signed_in(app, "sue")))
    refreshed = response.headers["Set-Cookie"]
    assert refreshed.startswith("session=")
    assert "HttpOnly" in refreshed
    assert "SameSite=Lax" in refreshed
    response.close()
    again = open_stream(streams.base, refreshed.split(";")[0])
    assert again.status_code == 200
    again.close()


def test_a_stream_ends_when_its_user_signs_out(app: Flask, streams):
    client = signed_in(app, "sue")
    stream = Stream(open_stream(streams.base, session_cookie(client), read_timeout=20))
    stream.next_board()
    other = signed_in(app, "sue")  # sign out on another screen: every session of sue ends
    assert other.post("/logout", data={"csrf_token": login_token(other)}).status_code == 303
    assert stream.ended()  # within IVR_STREAM_RECHECK (0.5 s here), well before the timeout
    wait_until(lambda: streams.health()["clients"] == 0)


def test_a_stream_ends_when_its_session_no_longer_holds(app: Flask, streams):
    client = signed_in(app, "sue")
    cookie = session_cookie(client)
    stream = Stream(open_stream(streams.base, cookie, read_timeout=20))
    stream.next_board()
    with app.app_context():  # sue is a supervisor no more (IVR_STREAM_RECHECK is 0.5 s here)
        save_user(user_engine(), "sue", "agent", PASSWORD)
    assert stream.ended()  # well before the 20 s read timeout, let alone the 5 min lifetime
    wait_until(lambda: streams.health()["clients"] == 0)
    assert open_stream(streams.base, cookie).status_code == 401  # her old cookie: sign in


def test_the_web_app_no_longer_holds_a_thread_for_a_stream(app: Flask, tmp_path: Path):
    """/wallboard/events on the Flask app answers at once: 404 saying where streams live, or,
    with IVR_STREAM_URL, a redirect there; the page opens the stream service's URL."""
    sue = signed_in(app, "sue")
    here = sue.get("/wallboard/events")
    assert here.status_code == 404
    assert b"stream service" in here.data
    assert b'data-stream-url="/wallboard/events"' in sue.get("/wallboard").data  # same origin

    elsewhere = create_app({**{k: v for k, v in vars(app.config["IVR"]).items()
                               if k != "extra"}, "stream_url": "http://127.0.0.1:5001"})
    sue = signed_in(elsewhere, "sue")
    moved = sue.get("/wallboard/events")
    assert moved.status_code == 307
    assert moved.headers["Location"] == "http://127.0.0.1:5001/wallboard/events"
    assert b'data-stream-url="http://127.0.0.1:5001/wallboard/events"' in sue.get(
        "/wallboard").data
