"""The stand-in serves on a bounded number of threads (IVR_STANDIN_THREADS), as the app does
(IVR_THREADS): `ivr twilio-standin` and the in-process `start_server` alike.

Each check holds every request thread with a connection that sent half a request (Werkzeug's
handler waits for the rest), then sends a whole request: a bounded server leaves it in the
listen backlog until a thread is free, where a thread-per-connection server would answer it
at once. Releasing one held connection then lets it through. Nothing waits for a short
window to pass: the held request cannot be answered, however slow the machine is.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from devkit.bench.webhook import free_port
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandInConfig
from ivr.config.settings import REPO_ROOT, Config


def half_request(port: int) -> socket.socket:
    """A connection that has sent a request line and no end of headers: it holds a thread."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def assert_bounded_to(port: int, threads: int) -> None:
    held = [half_request(port) for _ in range(threads)]
    answers: list[int] = []
    whole = threading.Thread(target=lambda: answers.append(
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=120).status_code))
    try:
        whole.start()
        whole.join(2)  # a thread-per-connection server answers well within this
        assert answers == [], f"answered with all {threads} threads held: not bounded"
        held.pop().close()  # its thread finishes the half request, then is free
        whole.join(120)
        assert answers == [200]
    finally:
        for sock in held:
            sock.close()
        whole.join(120)


@contextmanager
def standin_command(env: dict[str, str], log: Path) -> Iterator[int]:
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ivr.commands.cli", "twilio-standin", "--port", str(port)],
            env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the stand-in did not start"
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_the_command_serves_on_ivr_standin_threads_threads(tmp_path: Path):
    log = tmp_path / "standin.log"
    with standin_command({**os.environ, "IVR_STANDIN_THREADS": "2"}, log) as port:
        assert_bounded_to(port, 2)
    assert "2 threads" in log.read_text()


def test_start_server_is_bounded_and_shutdown_ends_its_threads():
    server, _, base_url = start_server(StandInConfig(), threads=3)
    try:
        assert_bounded_to(server.server_port, 3)
    finally:
        server.shutdown()
    for worker in server._workers:
        worker.join(30)
    assert not any(w.is_alive() for w in server._workers)


def test_by_default_it_has_the_settings_thread_budget():
    server, _, _ = start_server(StandInConfig())
    try:
        assert server.threads == Config().standin_threads == 32
    finally:
        server.shutdown()
