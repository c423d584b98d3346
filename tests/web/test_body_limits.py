"""Request bodies over the cap get 413 from the real servers (Werkzeug's development server and
gunicorn with gunicorn.conf.py), on the webhooks the lane answers, a webhook only Flask answers,
the sign-in form and the prompt upload (which has its own, larger limit); nothing is logged as
a traceback and a signed webhook is answered afterwards (issue 12, item 2).

Oversize requests are written on a raw socket: a Content-Length over the cap is sent with no
body at all, so a server that tried to read it would hang this test instead of answering; a
chunked body is sent from another thread while this one reads the answer, because a server
that stops reading and closes makes the client's further writes fail.
"""

from __future__ import annotations

import io
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator

import pytest
import requests
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from devkit.bench.webhook import Server, free_port
from ivr.config.settings import DEFAULT_MAX_BODY_BYTES, REPO_ROOT
from ivr.prompts.editing import MAX_UPLOAD_BYTES
from ivr.web.webhook_lane import WebhookLane
from tests.conftest import with_db
from tests.pg_schemas import same_database
from tests.signin import PASSWORD, add_users
from tests.web.conftest import standard_params

TOKEN = "body-limit-token"
CAP = DEFAULT_MAX_BODY_BYTES
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = "application/x-www-form-urlencoded"


class Served:
    def __init__(self, kind: str, server: Server) -> None:
        self.kind, self.server, self.port = kind, server, server.port
        self.base = f"http://127.0.0.1:{server.port}"

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.server.workdir.glob("*.log"))


def _start(kind: str, env: dict[str, str]) -> Server:
    port = free_port()
    env = {**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    server = Server(kind, port)
    if kind == "gunicorn":
        args = [sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "gunicorn.conf.py"),
                "-b", f"127.0.0.1:{port}", "-w", "1", "ivr:create_app()"]
        env["IVR_THREADS"] = "2"
    else:
        args = [sys.executable, "-m", "ivr.commands.cli", "serve", "--port", str(port)]
    server.start(args, env)
    deadline = time.monotonic() + 60
    while True:  # the port opens before the app is built under gunicorn
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code < 500:
                return server
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{kind} did not answer /healthz"
        time.sleep(0.2)


@pytest.fixture(scope="module", params=["werkzeug", "gunicorn"])
def served(request: pytest.FixtureRequest, redis_server_url: str, redis_db: int,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    instance = tmp_path_factory.mktemp("instance")
    add_users(instance, boss="admin")
    env = {**os.environ, "REDIS_URL": with_db(redis_server_url, redis_db),
           "TWILIO_AUTH_TOKEN": TOKEN, "IVR_INSTANCE_DIR": str(instance),
           "DATABASE_URL": same_database(),
           "SECRET_KEY": "body-limits-test-" + "k" * 40,
           "IVR_LOG_FORMAT": "text", "IVR_PROMPTS_AUDIO_DIR": str(instance / "audio")}
    env.pop("IVR_DEV_MODE", None)
    env.pop("IVR_MAX_BODY_BYTES", None)
    server = _start(request.param, env)
    try:
        yield Served(request.param, server)
    finally:
        server.stop()


# -- raw HTTP ---------------------------------------------------------------------------------

def exchange(port: int, head: str, body: Iterable[bytes] = ()) -> tuple[int, bytes]:
    """Send `head` (request line and headers), then `body` from another thread; return the
    status and what came back. Write errors are expected once the server has refused."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head.encode("latin-1") + b"\r\n")

    def send() -> None:
        try:
            for piece in body:
                sock.sendall(piece)
        except OSError:
            pass  # the server answered and closed: what we assert is its answer

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    finally:
        sender.join(60)
        sock.close()
    assert received.startswith(b"HTTP/1."), received
    return int(received.split(b" ", 2)[1]), received


def headers(port: int, path: str, content_type: str, **extra: str) -> str:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Type: {content_type}",
             *(f"{name.replace('_', '-')}: {value}" for name, value in extra.items())]
    return "\r\n".join(lines) + "\r\n"


def declared(served: Served, path: str, size: int, content_type: str = FORM,
             **extra: str) -> int:
    """Status for a request that declares `size` bytes and sends none of them."""
    head = headers(served.port, path, content_type, Content_Length=str(size), **extra)
    return exchange(served.port, head)[0]


def chunked(served: Served, path: str, size: int, content_type: str = FORM,
            **extra: str) -> int:
    """Status for a chunked body of `size` bytes (a valid form: `a=xxxx...`)."""
    head = headers(served.port, path, content_type, Transfer_Encoding="chunked", **extra)
    return exchange(served.port, head, _chunks(size))[0]


def _chunks(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    yield b"2\r\na=\r\n"
    sent = 2
    while sent < size:
        n = min(piece, size - sent)
        yield b"%x\r\n" % n + b"x" * n + b"\r\n"
        sent += n
    yield b"0\r\n\r\n"


def signed_webhook(served: Served) -> requests.Response:
    params = standard_params("CA" + "b" * 32)
    signature = RequestValidator(TOKEN).compute_signature(served.base + "/voice", params)
    return requests.post(served.base + "/voice", data=params, timeout=30,
                         headers={"X-Twilio-Signature": signature})


def admin_session(served: Served) -> tuple[requests.Session, str]:
    """A session signed in as an admin through the real form, and its CSRF token."""
    session = requests.Session()
    token = CSRF.search(session.get(served.base + "/login", timeout=30).text)
    assert token
    done = session.post(served.base + "/login", timeout=30, allow_redirects=False, data={
        "username": "boss", "password": PASSWORD, "csrf_token": token.group(1)})
    assert done.status_code == 303, done.text
    page = session.get(served.base + "/admin/prompts", timeout=30)
    token = CSRF.search(page.text)
    assert token, page.text[:500]
    return session, token.group(1)


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


# -- tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/voice", "/voice/next?seq=1", "/voice/status",
                                  "/voice/queue/wait"])
def test_webhook_bodies_over_the_cap_get_413(served: Served, path: str) -> None:
    signature = {"X_Twilio_Signature": "anything"}
    assert declared(served, path, CAP + 1, **signature) == 413
    assert declared(served, path, 50 * CAP, **signature) == 413
    assert chunked(served, path, CAP + 64 * 1024, **signature) == 413
    # Twilio signs a JSON body by its hash: it was read whole before the check
    assert chunked(served, path + ("&" if "?" in path else "?") + "bodySHA256=x",
                   CAP + 64 * 1024, "application/json", **signature) == 413
    assert signed_webhook(served).status_code == 200


def test_the_sign_in_form_over_the_cap_gets_413(served: Served) -> None:
    assert declared(served, "/login", CAP + 1) == 413
    assert chunked(served, "/login", 2 * CAP) == 413
    assert admin_session(served)  # the form still works


def test_prompt_upload_has_its_own_limit_enforced_while_streaming(served: Served) -> None:
    session, token = admin_session(served)
    path = "/admin/prompts/goodbye/en-US/audio"
    cookie = cookie_header(session)
    boundary = "ivrboundary"
    multipart = f"multipart/form-data; boundary={boundary}"
    assert declared(served, path, MAX_UPLOAD_BYTES + 1024 * 1024, multipart,
                    Cookie=cookie, X_CSRF_Token=token) == 413
    assert chunked(served, path, MAX_UPLOAD_BYTES + 1024 * 1024, multipart,
                   Cookie=cookie, X_CSRF_Token=token) == 413
    # Over the app's cap, under the upload's own: read, and refused as audio, not as size
    junk = b"not a recording " * (2 * CAP // 16)
    answer = session.post(served.base + path, timeout=60, allow_redirects=False,
                          data={"csrf_token": token}, files={"audio": ("x.wav", junk)})
    assert answer.status_code == 303, answer.text[:500]
    page = session.get(served.base + "/admin/prompts", timeout=30).text
    assert "413" not in page
    assert signed_webhook(served).status_code == 200


def test_no_traceback_in_the_server_log(served: Served) -> None:
    """Runs after the others in this module (same server): every refusal was a plain 413."""
    assert signed_webhook(served).status_code == 200
    log = served.log()
    assert "Traceback" not in log, log[-3000:]
    assert " 500 " not in log, log[-3000:]


def test_body_cap_is_a_setting() -> None:
    from ivr.config import settings as config
    from ivr.domain.errors import ConfigError

    assert config.from_env({"IVR_MAX_BODY_BYTES": "65536"}).max_body_bytes == 65536
    with pytest.raises(ConfigError, match="IVR_MAX_BODY_BYTES"):
        config.from_env({"IVR_MAX_BODY_BYTES": "1M"})
    with pytest.raises(ConfigError, match="IVR_MAX_BODY_BYTES"):
        config.from_env({"IVR_MAX_BODY_BYTES": "10"})


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readinto(self, b: object) -> int:
        raise AssertionError("the body was read")


def test_the_lane_refuses_a_declared_oversize_body_itself_without_reading(app: Flask) -> None:
    lane = app.wsgi_app
    assert isinstance(lane, WebhookLane)
    handed: list[str] = []
    flask_wsgi = lane.flask_wsgi
    lane.flask_wsgi = lambda environ, start: handed.append(environ["PATH_INFO"]) or flask_wsgi(
        environ, start)
    environ = EnvironBuilder(path="/voice", method="POST", content_type=FORM).get_environ()
    environ.update({"CONTENT_LENGTH": str(CAP + 1), "wsgi.input": Unreadable()})
    answer = Response.from_app(lane, environ)
    assert answer.status_code == 413
    assert f"{CAP} bytes" in answer.get_data(as_text=True)
    # a chunked one is read to the cap and no further, then refused
    body = io.BytesIO(b"a=" + b"x" * (2 * CAP))
    environ = EnvironBuilder(path="/voice/status", method="POST", content_type=FORM).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": body, "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    assert Response.from_app(lane, environ).status_code == 413
    assert body.tell() <= CAP + 64 * 1024
    assert handed == []
