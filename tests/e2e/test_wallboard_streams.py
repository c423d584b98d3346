"""Wallboards must never starve webhooks (issue 12): against a real `ivr serve --gunicorn`
(2 workers x 4 threads, gunicorn.conf.py's defaults), a supervisor opens more wallboard
streams than the web server has threads, where the page opens them, keeps them open, and
signed `POST /voice` webhooks are still answered with TwiML at once. Before the stream
service, every stream held a gunicorn thread for 5 minutes and the webhooks waited behind
them until Twilio gave up.

Also: `ivr serve` starts the stream service as a child and stops it with itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from twilio.request_validator import RequestValidator

from devkit.bench.webhook import free_port
from ivr.config.settings import DEV_ACCOUNT_SID, REPO_ROOT
from tests.pg_schemas import same_database
from tests.signin import PASSWORD, add_users

pytestmark = pytest.mark.slow
TOKEN = "streams-e2e-token"
THREADS = 2 * 4  # `ivr serve --gunicorn`: 2 workers (its default) x 4 threads (the conf's)
SCREENS = THREADS + 4
WEBHOOKS = 10
WEBHOOK_BAR = 1.0  # seconds; the bar (Twilio itself gives up at 15 s)


def serve(tmp_path: Path, redis_url: str, port: int, streams_port: int) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
           "TWILIO_ACCOUNT_SID": DEV_ACCOUNT_SID, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "IVR_INSTANCE_DIR": str(tmp_path / "instance"), "DATABASE_URL": same_database(),
           "IVR_PROMPTS_AUDIO_DIR": str(tmp_path / "no-audio"), "IVR_LOG_LEVEL": "WARNING"}
    for name in ("IVR_DEV_MODE", "IVR_STREAM_URL", "IVR_THREADS", "WEB_CONCURRENCY"):
        env.pop(name, None)
    log = (tmp_path / "serve.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "ivr.commands.cli", "serve", "--gunicorn",
                             "--port", str(port), "--streams-port", str(streams_port)],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_answers(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.2)


def sign_in(base: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    done = browser.post(f"{base}/login", timeout=10, allow_redirects=False, data={
        "username": "sue", "password": PASSWORD, "csrf_token": token.group(1)})
    assert done.status_code == 303, done.text
    return browser


def stream_url(browser: requests.Session, base: str) -> str:
    """Where the wallboard page opens its stream (its own origin when it does not say)."""
    page = browser.get(f"{base}/wallboard", timeout=10).text
    found = re.search(r'data-stream-url="([^"]+)"', page)
    return urljoin(base, found.group(1) if found else "/wallboard/events")


def hold_screen(url: str, headers: dict[str, str], boards: list[str],
                stop: threading.Event, failures: list[str]) -> None:
    """One wall screen: open the stream, note its first board, keep it open until `stop`.
    What went wrong instead goes to `failures`, for the assertion's message."""
    try:
        with requests.get(url, headers=headers, stream=True, timeout=(10, 60)) as response:
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
                return
            first = True
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("data: ") and first:
                    first = False
                    boards.append(response.headers.get("Access-Control-Allow-Origin", ""))
                if stop.is_set():
                    return
    except requests.RequestException as exc:
        if not stop.is_set():
            failures.append(repr(exc))


def post_voice(base: str) -> tuple[int, str, float]:
    params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": DEV_ACCOUNT_SID,
              "From": "+14155550123", "To": "+14155550100", "CallStatus": "ringing",
              "Direction": "inbound", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(TOKEN).compute_signature(f"{base}/voice", params)
    started = time.monotonic()
    try:
        answer = requests.post(f"{base}/voice", data=params, timeout=10,
                               headers={"X-Twilio-Signature": signature})
    except requests.Timeout:
        return 0, "timed out after 10 s", time.monotonic() - started
    return answer.status_code, answer.text, time.monotonic() - started


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_open_wallboards_never_starve_webhooks(redis_url: str, redis, tmp_path: Path):  # noqa: ARG001
    port, streams_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    add_users(tmp_path / "instance", sue="supervisor")
    server = serve(tmp_path, redis_url, port, streams_port)
    stop, screens, boards, failures = threading.Event(), [], [], []
    try:
        wait_answers(f"{base}/healthz")
        wait_answers(f"http://127.0.0.1:{streams_port}/healthz")
        browser = sign_in(base)
        url = stream_url(browser, base)
        for _ in range(4):  # both workers warm
            post_voice(base)
        headers = {"Cookie": f"session={browser.cookies['session']}", "Origin": base}
        for _ in range(SCREENS):
            screen = threading.Thread(target=hold_screen,
                                      args=(url, headers, boards, stop, failures), daemon=True)
            screen.start()
            screens.append(screen)
        deadline = time.monotonic() + 30
        while len(boards) < SCREENS and time.monotonic() < deadline:
            time.sleep(0.1)

        answers = [post_voice(base) for _ in range(WEBHOOKS)]

        log = (tmp_path / "serve.log").read_text(errors="replace")
        for status, body, seconds in answers:
            assert status == 200, (status, body, log[-3000:])
            assert "<Response>" in body, body
            assert seconds < WEBHOOK_BAR, [round(a[2], 3) for a in answers]
        assert len(boards) == SCREENS, (f"{len(boards)} of {SCREENS} screens got a board",
                                        failures, log[-3000:])
        assert set(boards) == {base}  # CORS: the page's origin, with credentials
        assert url == f"http://127.0.0.1:{streams_port}/wallboard/events"
        health = requests.get(f"http://127.0.0.1:{streams_port}/healthz", timeout=10).json()
        assert health["clients"] == SCREENS
    finally:
        stop.set()
        os.kill(server.pid, signal.SIGTERM)  # gunicorn's master only: the child follows it
        try:
            server.wait(30)
            deadline = time.monotonic() + 15
            while not port_closed(streams_port) and time.monotonic() < deadline:
                time.sleep(0.2)
            stopped = port_closed(streams_port)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # whatever is left of its group
            for screen in screens:
                screen.join(5)
    assert stopped, "the stream service outlived `ivr serve`"
