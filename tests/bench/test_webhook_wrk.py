"""`ivr bench webhook --wrk`: the generated Lua script gives every request of every wrk thread its
own CallSid and a signature Twilio's validator accepts, and the output parser reads wrk's
figures. Real wrk against a small local server that records what it received."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from twilio.request_validator import RequestValidator

from devkit.bench.servers import TOKEN, free_port
from devkit.bench.webhook import sign
from devkit.bench.webhook_wrk import LUA, WrkLoad, write_pool

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="needs Debian's wrk")


class Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(port: int, seen: list[tuple[str, str, dict[str, str]]]) -> WSGIServer:
    def app(environ: dict, start_response):  # type: ignore[no-untyped-def]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        seen.append((environ["PATH_INFO"], environ.get("HTTP_X_TWILIO_SIGNATURE", ""),
                     dict(parse_qsl(body.decode()))))
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<Response/>"]

    server = make_server("127.0.0.1", port, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_every_request_is_a_new_signed_call(tmp_path: Path) -> None:
    port = free_port()
    seen: list[tuple[str, str, dict[str, str]]] = []
    server = serve(port, seen)
    url = f"http://127.0.0.1:{port}/voice"
    try:
        script, pool = tmp_path / "webhook.lua", tmp_path / "pool.txt"
        script.write_text(LUA)
        write_pool(pool, url, 20000, sign)
        result = WrkLoad(threads=2, connections=2, duration=1, pool=20000).run(
            url, script, pool, 1)
    finally:
        server.shutdown()
    assert result.wrapped == 0
    assert result.rate > 0
    assert result.non_2xx == 0
    assert len(seen) >= 50
    sids = [form["CallSid"] for _, _, form in seen]
    assert len(set(sids)) == len(sids)  # both threads drew from the pool, never the same line
    validator = RequestValidator(TOKEN)
    for path, signature, form in seen:
        assert path == "/voice"
        assert validator.validate(url, form, signature)


def test_a_thread_that_runs_out_of_bodies_says_so(tmp_path: Path) -> None:
    port = free_port()
    seen: list[tuple[str, str, dict[str, str]]] = []
    server = serve(port, seen)
    url = f"http://127.0.0.1:{port}/voice"
    try:
        script, pool = tmp_path / "webhook.lua", tmp_path / "pool.txt"
        script.write_text(LUA)
        write_pool(pool, url, 10, sign)
        result = WrkLoad(threads=2, connections=2, duration=1, pool=10).run(
            url, script, pool, 1)
    finally:
        server.shutdown()
    assert len(seen) > 10
    assert result.wrapped > 0  # each thread's 5 bodies went round again, and it is counted
