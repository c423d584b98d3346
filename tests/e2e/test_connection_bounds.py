"""Issue 12: a web server keeps a bounded number of Redis connections and threads, whatever
the number of requests. The failure it reproduces: `bin/dev demo` (`ivr serve`, Werkzeug's
development server, a thread per request) left running with the wallboard open; from minute
five every webhook got "Too many connections" (the fallback apology) and Redis held ~100 idle
connections, one per dead request thread (ivr/store/lean_script.py kept them per thread).

The real server is started as the demo starts it, on its own Redis database, and sent a few
thousand requests on short-lived connections (signed webhooks of whole calls, mixed with
pages), more at once than it has threads. Meanwhile Redis's CLIENT LIST is sampled: the
connections on the server's database never exceed its pool (IVR_REDIS_MAX_CONNECTIONS), no
webhook gets the apology or an error, and afterwards a new call is answered normally.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psutil
import pytest
import redis as redis_lib
from twilio.request_validator import RequestValidator

from devkit.bench.webhook import free_port
from ivr.config.settings import REPO_ROOT
from tests.conftest import _claim_empty_db, with_db
from tests.pg_schemas import same_database

TOKEN = "bounds-" + uuid.uuid4().hex[:8]
POOL = 8  # IVR_REDIS_MAX_CONNECTIONS for the server under test
THREADS = 4  # IVR_THREADS
CLIENTS = 16  # requests in flight at once: more than the server has threads
CALLS = 320  # x 5 webhooks, plus a page request per call: about 1,900 requests
STEPS = (("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}),
         ("/voice/next?seq=2", {"Digits": "3"}), ("/voice/next?seq=3", {"Digits": "1"}),
         ("/voice/status", {"CallStatus": "completed", "CallDuration": "30"}))
PAGES = ("/healthz", "/readyz", "/login", "/wallboard", "/agent", "/no-such-page")
APOLOGY = b"something went wrong on our side"
PROBE = "ivr-test-probe"


@pytest.fixture
def server_redis_url(redis_server_url: str) -> Iterator[str]:
    """A Redis database of the server's own, so CLIENT LIST's `db=` tells its connections
    apart from every other client of a shared server (old code names none of them)."""
    url = with_db(redis_server_url, _claim_empty_db(redis_server_url))
    yield url
    redis_lib.Redis.from_url(url).flushdb()


@dataclass
class Served:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    statuses: list[tuple[str, int, bool]] = field(default_factory=list)  # path, status, apology
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, path: str, params: dict[str, str] | None = None) -> None:
        """One request on a connection of its own, as many short-lived clients make them."""
        headers, body = {}, None
        if params is not None:
            body = urlencode(params)
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(
                           f"http://127.0.0.1:{self.port}{path}", params)}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            status, data = 0, b""
        finally:
            conn.close()
        with self.lock:
            self.statuses.append((path.split("?")[0], status, APOLOGY in data))

    def call(self, number: int) -> None:
        sid = "CA" + uuid.uuid4().hex
        for path, extra in STEPS:
            self.request("POST", path, {"CallSid": sid, "AccountSid": "AC" + "0" * 32,
                                        "From": "+14155550123", "To": "+14155550100",
                                        "CallStatus": "in-progress", **extra})
        self.request("GET", PAGES[number % len(PAGES)])


def start(kind: str, redis_url: str, tmp_path: Path) -> Served:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": same_database(),
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "IVR_INSTANCE_DIR": str(tmp_path / "instance"),
           "IVR_PROMPTS_AUDIO_DIR": str(tmp_path / "no-audio"),
           "IVR_REDIS_MAX_CONNECTIONS": str(POOL), "IVR_THREADS": str(THREADS),
           "IVR_LOG_LEVEL": "WARNING"}
    # the wallboard's stream service (a child of `ivr serve`) would share the database: off
    args = [sys.executable, "-m", "ivr.commands.cli", "serve", "--port", str(port), "--no-streams"]
    if kind == "gunicorn":
        args += ["--gunicorn", "--workers", "2"]
    log = tmp_path / f"{kind}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(port, proc, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        served.request("GET", "/readyz")
        if served.statuses[-1][1] == 200 and (kind != "gunicorn" or _ready_twice(served)):
            served.statuses.clear()
            return served
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.3)
    raise AssertionError(f"the server did not start: {log.read_text()[-3000:]}")


def _ready_twice(served: Served) -> bool:
    """gunicorn listens before both workers booted: a few answers in a row."""
    for _ in range(4):
        served.request("GET", "/readyz")
    return all(s[1] == 200 for s in served.statuses[-4:])


def stop(served: Served) -> None:
    if served.proc.poll() is None:
        os.killpg(served.proc.pid, signal.SIGTERM)
        try:
            served.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(served.proc.pid, signal.SIGKILL)
            served.proc.wait()


def server_clients(probe: redis_lib.Redis, db: int) -> int:
    """Connections on the server's database, from CLIENT LIST (the probe itself left out)."""
    return sum(1 for c in probe.client_list()
               if int(c.get("db", -1)) == db and c.get("name") != PROBE)


def threads_of(proc: subprocess.Popen[bytes]) -> list[int]:
    """Thread counts of the server's processes (gunicorn: the master and its workers)."""
    try:
        root = psutil.Process(proc.pid)
        return [p.num_threads() for p in [root, *root.children()]]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("kind", ["serve", "gunicorn"])
def test_a_server_keeps_bounded_redis_connections_and_threads_under_many_requests(
        kind: str, server_redis_url: str, tmp_path: Path):
    db = int(server_redis_url.rsplit("=" if "db=" in server_redis_url else "/", 1)[-1])
    probe = redis_lib.Redis.from_url(server_redis_url, client_name=PROBE)
    calls = CALLS if kind == "serve" else CALLS // 2  # gunicorn's threads never die anyway
    served = start(kind, server_redis_url, tmp_path)
    peaks = {"redis": 0, "threads": 0}
    idle_threads = max(threads_of(served.proc))
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peaks["redis"] = max(peaks["redis"], server_clients(probe, db))
            peaks["threads"] = max([peaks["threads"], *threads_of(served.proc)])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as clients:
            list(clients.map(served.call, range(calls)))
        done.set()
        sampler.join(10)
        storm, after = list(served.statuses), server_clients(probe, db)
        served.statuses.clear()
        served.call(0)  # a new call after the storm: answered as usual
        fresh = list(served.statuses)
    finally:
        done.set()
        stop(served)
    failed = [s for s in storm if s[0].startswith("/voice") and s[1:] != (200, False)]
    assert not failed, (len(failed), failed[:5], served.log.read_text()[-2000:])
    assert all(0 < s[1] < 500 for s in storm), [s for s in storm if not 0 < s[1] < 500][:5]
    assert len(storm) == calls * (len(STEPS) + 1)
    assert fresh[:5] == [(p.split("?")[0], 200, False) for p, _ in STEPS], fresh
    pools = 2 if kind == "gunicorn" else 1  # one pool per process
    assert peaks["redis"] <= POOL * pools, peaks
    assert after <= POOL * pools
    if kind == "serve":  # gunicorn's gthread workers are bounded by gunicorn itself
        assert peaks["threads"] <= idle_threads + 2, (peaks, idle_threads)
