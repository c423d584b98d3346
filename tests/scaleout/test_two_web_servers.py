"""Scale-out: two web server processes behind a round-robin balancer share nothing but Redis,
and calls whose webhooks alternate between them complete exactly as on one server."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections import Counter

import pytest
import requests
from rq import SimpleWorker
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from devkit.bench.webhook import TOKEN, Server, free_port
from devkit.twilio_standin.clock import RealClock
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandInConfig
from ivr.config.settings import DEV_ACCOUNT_SID
from ivr.store.jobs import ROUTING_QUEUE
from queue_worker.context import build_context, install_context
from tests.twiml_validate import twiml_problems

pytestmark = pytest.mark.slow


class RoundRobin:
    """A tiny HTTP balancer: each request goes to the next backend."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = itertools.cycle(backends)
        self.served: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        with self.lock:
            backend = next(self.backends)
            self.served[backend] += 1
        upstream = requests.request(
            request.method, backend + request.full_path.rstrip("?"), data=request.get_data(),
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            timeout=15, allow_redirects=False)
        response = Response(upstream.content, upstream.status_code,
                            content_type=upstream.headers.get("Content-Type"))
        return response(environ, start_response)


def test_calls_alternating_between_two_web_processes_complete(redis_url, redis, tmp_path):
    lb_port = free_port()
    lb_url = f"http://127.0.0.1:{lb_port}"
    config = StandInConfig(app_url=lb_url, auth_token=TOKEN, clock=lambda: RealClock(30),
                           talk_seconds=60, max_hold_loops=40, validate=twiml_problems)
    standin_server, standin, api_base = start_server(config)
    env = {**os.environ, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
           "TWILIO_ACCOUNT_SID": DEV_ACCOUNT_SID, "TWILIO_API_BASE": api_base,
           "PUBLIC_BASE_URL": lb_url, "IVR_INSTANCE_DIR": str(tmp_path / "instance"),
           "IVR_PROMPTS_AUDIO_DIR": str(tmp_path / "no-audio"), "IVR_ANNOUNCE_EVERY": "0"}
    webs = [Server(f"web{i}", free_port()) for i in range(2)]
    balancer = RoundRobin([f"http://127.0.0.1:{w.port}" for w in webs])
    lb = make_server("127.0.0.1", lb_port, balancer, threaded=True)
    threading.Thread(target=lb.serve_forever, args=(0.05,), daemon=True).start()
    try:
        for web in webs:
            web.start([sys.executable, "-m", "ivr.commands.cli", "serve", "--port", str(web.port),
                       "--no-streams"], env)
        from ivr.config.queues import build_queue_service
        from ivr.config.settings import from_env
        from ivr.store.operator_flags import set_flag

        set_flag(redis, "always_open", "on")
        settings = from_env(env)
        install_context(redis, build_context(redis, settings))
        engine = build_queue_service(settings, redis)
        engine.agents.device("alice", "registered", time.time())
        engine.agent_presence("alice", "available", time.time())
        scripts = ["press 1; press 1; press 10000008#; press 1",  # self-service
                   "press 1; press 0; hold 30; press 5; press 1",  # queue, agent, survey
                   "press 1; press 3; press 1",
                   "press 2; press 2; press 55000004#; press 1"]
        legs = [standin.start_inbound(f"+1415555{i:04d}", "+14155550100", s)
                for i, s in enumerate(scripts)]
        deadline = time.monotonic() + 60
        while not all(leg.completed for leg in legs) and time.monotonic() < deadline:
            SimpleWorker([ROUTING_QUEUE], connection=redis).work(burst=True)
            time.sleep(0.1)
        for leg in legs:
            assert leg.status == "completed", leg.transcript.render()
            assert leg.transcript.ok, leg.transcript.render()
        assert "has shipped" in " ".join(legs[0].transcript.heard())
        kinds = [e.kind for e in legs[1].transcript.events]
        assert "conference" in kinds  # bridged with alice in a room
        assert "talking" in kinds
        assert min(balancer.served.values()) > 10  # both servers answered a share
    finally:
        standin.hang_up()
        lb.shutdown()
        standin_server.shutdown()
        for web in webs:
            web.stop()
