"""The stream service as real processes: `ivr streams` on its own (a supervisor's page
session, made by the web app with the same SECRET_KEY, opens a stream; SIGTERM stops it), and
`ivr serve` (the development server) starting it as a child, pointing the wallboard page at
it, and stopping it on the way out."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devkit.bench.webhook import free_port
from ivr import create_app
from tests.pg_schemas import same_database
from tests.signin import PASSWORD, add_users, signed_in
from tests.stream_service import Stream, open_stream, session_cookie

pytestmark = pytest.mark.slow
SECRET = "streams-command-secret-" + "x" * 32


def environment(tmp_path: Path, redis_url: str, public: str) -> dict[str, str]:
    env = {**os.environ, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": "t",
           "DATABASE_URL": same_database(),
           "SECRET_KEY": SECRET, "PUBLIC_BASE_URL": public,
           "IVR_INSTANCE_DIR": str(tmp_path / "instance"), "IVR_LOG_LEVEL": "WARNING"}
    for name in ("IVR_DEV_MODE", "IVR_STREAM_URL", "IVR_WEB_ORIGINS"):
        env.pop(name, None)
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ivr.commands.cli", *args], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_answers(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def refused(url: str, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
        except requests.ConnectionError:
            return True
        time.sleep(0.2)
    return False


def test_ivr_streams_serves_supervisors_and_stops_on_sigterm(redis_url, redis, tmp_path):  # noqa: ARG001
    port = free_port()
    env = environment(tmp_path, redis_url, "https://ivr.example.test")
    add_users(tmp_path / "instance", sue="supervisor")
    log = tmp_path / "streams.log"
    proc = start(["streams", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_answers(f"{base}/healthz", proc, log)
        assert open_stream(base).status_code == 401
        pages = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                            "secret_key": SECRET, "instance_dir": tmp_path / "instance"})
        stream = Stream(open_stream(base, session_cookie(signed_in(pages, "sue"))))
        _, board = stream.next_board()
        assert "queues" in board
        assert requests.get(f"{base}/healthz", timeout=5).json()["clients"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0  # with a stream open: it is ended, not waited for
        assert stream.ended()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"serving on {base}" in log.read_text()


def test_ivr_serve_starts_the_stream_service_and_stops_it(redis_url, redis, tmp_path):  # noqa: ARG001
    port, streams_port = free_port(), free_port()
    web = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, redis_url, web)
    add_users(tmp_path / "instance", sue="supervisor")
    log = tmp_path / "serve.log"
    proc = start(["serve", "--port", str(port), "--streams-port", str(streams_port)], env, log)
    streams = f"http://127.0.0.1:{streams_port}"
    try:
        wait_answers(f"{web}/healthz", proc, log)
        wait_answers(f"{streams}/healthz", proc, log)
        browser = requests.Session()
        page = browser.get(f"{web}/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        browser.post(f"{web}/login", timeout=10, data={
            "username": "sue", "password": PASSWORD, "csrf_token": token[1]})
        wallboard = browser.get(f"{web}/wallboard", timeout=10).text
        assert f'data-stream-url="{streams}/wallboard/events"' in wallboard
        cookie = f"session={browser.cookies['session']}"
        response = open_stream(streams, cookie, origin=web)  # the page's origin: allowed
        assert response.headers["Access-Control-Allow-Origin"] == web
        Stream(response).next_board()
        response.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert refused(f"{streams}/healthz")  # the child went with it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
