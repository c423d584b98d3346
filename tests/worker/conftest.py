"""A tiny local HTTP server standing in for Twilio's REST API: the real twilio Client talks
to it over real HTTP, and it records what was asked. `hold_first` makes the first request hang
(without counting it as served) so a test can kill a worker in the middle of a bridge. And
the routing jobs' context the tests install (`routing_context`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from rq import Queue, SimpleWorker

from ivr.config.queues import parse_queues
from ivr.config.settings import Config
from ivr.phone.call_control import TwilioCallControl, build_client
from ivr.store.jobs import ROUTING_QUEUE, RqTrigger
from queue_worker.context import JobContext, install_context
from tests.store.queue_fixtures import CONFIG, service_for

BASE = "https://ivr.example.com"  # the app's public base URL in the routing jobs' tests


class FakeTwilio:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str]]] = []
        self.served: list[tuple[str, dict[str, str]]] = []
        self.hold_first = False
        # path suffix -> (HTTP status, Twilio error code): answered as Twilio answers an error
        self.refuse: dict[str, tuple[int, int]] = {}
        # CallSid -> status for `GET Calls/{Sid}.json` (None: Twilio does not answer);
        # another CallSid is unknown (404, 20404)
        self.calls: dict[str, str | None] | None = None
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake.lock:
                    first = not fake.received
                    fake.received.append((self.path, form))
                if first and fake.hold_first:
                    fake.release.wait(15)
                    return  # never answered: the client died waiting
                refused = next((v for k, v in fake.refuse.items() if self.path.endswith(k)),
                               None)
                if refused is not None:
                    self._answer(refused[0], {"code": refused[1], "status": refused[0],
                                              "message": "refused by the test"})
                    return
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                if sid == "Calls":
                    sid = "CA" + f"{len(fake.received):032d}"
                with fake.lock:  # before the answer: the client may look as soon as it has it
                    fake.served.append((self.path, form))
                self._answer(201 if self.path.endswith("Calls.json") else 200,
                             {"sid": sid, "status": "queued"})

            def do_GET(self) -> None:
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                known = fake.calls or {}
                if fake.calls is None or (sid in known and known[sid] is None):
                    self._answer(503, {"code": 20503, "status": 503, "message": "busy"})
                elif sid not in known:
                    self._answer(404, {"code": 20404, "status": 404,
                                       "message": f"The requested resource {self.path} "
                                                  "was not found"})
                else:
                    self._answer(200, {"sid": sid, "status": known[sid], "duration": None,
                                       "end_time": None})

            def _answer(self, status: int, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def served_for(self, fragment: str) -> list[dict[str, str]]:
        with self.lock:
            return [form for path, form in self.served if fragment in path]


@contextmanager
def running_fake_twilio() -> Iterator[FakeTwilio]:
    """A FakeTwilio serving on its own thread, shut down (and any held request released)
    on the way out; the fixture below and the page tests' `twilio` fixtures use it."""
    fake = FakeTwilio()
    # a 50 ms poll: shutdown() waits for the serving loop's next look (the 0.5 s default
    # was half a second at the end of every test that uses it)
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture
def fake_twilio():
    with running_fake_twilio() as fake:
        yield fake


@pytest.fixture
def ctx(redis, fake_twilio):
    """The routing jobs' context for the standard queues.yaml (tests/store/queue_fixtures.py)
    with every agent's softphone signed in; a module with other queues defines its own."""
    context = routing_context(redis, fake_twilio, CONFIG, time.time() - 100)
    for agent in parse_queues(CONFIG).agents:
        context.service.agents.device(agent.id, "registered", time.time())
    return context


def work(redis) -> None:
    """Run the routing queue's jobs until it is empty, in this process."""
    SimpleWorker([ROUTING_QUEUE], connection=redis).work(burst=True)


def routing_context(redis, fake_twilio: FakeTwilio, config, agents_since: float) -> JobContext:
    """The routing jobs' context on `redis`, installed: the engine for `config` (queues.yaml's
    shape; its agents added at `agents_since`) with routing passes as RQ jobs, and Twilio's
    REST API at `fake_twilio`."""
    rq = Queue(ROUTING_QUEUE, connection=redis)
    svc = service_for(redis, config, agents_since, trigger=RqTrigger(rq))
    control = TwilioCallControl(build_client(
        Config(twilio_api_base=fake_twilio.url, public_base_url=BASE), timeout=2))
    return install_context(redis, JobContext(svc, control, rq, BASE, tick_seconds=30))
