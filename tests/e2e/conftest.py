"""A whole call centre on 127.0.0.1 for end-to-end tests: the app served over real HTTP, the
Twilio stand-in (real REST client code, signed webhooks), routing jobs run by an RQ worker in
this process, all on the test's real Redis.

The stand-in's legs run on a sped-up clock (a 15 s hold pause takes half a second), so whole
calls through menus, hold loops, bridges and callbacks finish in a few seconds.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import yaml
from rq import SimpleWorker
from werkzeug.serving import make_server

from devkit.twilio_standin.clock import RealClock
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandIn, StandInConfig
from ivr import create_app
from ivr.config.settings import DEV_ACCOUNT_SID, REPO_ROOT
from ivr.store.jobs import ROUTING_QUEUE
from queue_worker.context import build_context, install_context
from tests.twiml_validate import twiml_problems

TOKEN = "e2e-auth-token"
SPEED = 30.0
FRONTDESK = "+15550001000"  # tests/e2e/flows/frontdesk.yaml: always open, straight to support


@dataclass
class Live:
    app: Any
    base_url: str
    standin: StandIn
    redis: redis_lib.Redis
    callees: dict[str, str] = field(default_factory=dict)
    worker_context: Any = None

    def configure_queue(self, name: str, **changes: Any) -> None:
        """Change a queue's settings in the app and in the worker (as an edited queues.yaml
        would after a restart of both)."""
        for engine in (self.queues, self.worker_context.service):
            engine.queues[name] = replace(engine.queues[name], **changes)

    @property
    def queues(self) -> Any:
        return self.app.extensions["ivr"].queue_engine

    def call(self, script: str, from_: str = "+14155550123", to: str = FRONTDESK) -> Any:
        return self.standin.start_inbound(from_, to, script)

    def work(self) -> None:
        """Run the routing jobs that are due (RQ's scheduler moves timed ones in first)."""
        SimpleWorker([ROUTING_QUEUE], connection=self.redis).work(
            burst=True, with_scheduler=True, logging_level="WARNING")

    def run_until(self, done: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError("timed out; legs: " + "; ".join(
                    f"{leg.call_sid} {leg.status}" for leg in self.standin.all_legs()))
            self.work()
            time.sleep(0.05)

    def available(self, *agents: str) -> None:
        for agent in agents:  # their softphones are signed in (routing rule 0)
            self.queues.agents.device(agent, "registered", time.time())
            self.queues.agent_presence(agent, "available", time.time())


def flows_dir(tmp_path: Path) -> Path:
    """The demo flows plus the test flow, with lookups pointing at the demo data."""
    flows = tmp_path / "callflows"
    flows.mkdir()
    for source in [*sorted((REPO_ROOT / "callflows").glob("*.yaml")),
                   Path(__file__).parent / "flows" / "frontdesk.yaml"]:
        shutil.copy(source, flows / source.name)
    lookups = yaml.safe_load((REPO_ROOT / "lookups.yaml").read_text())
    for spec in lookups["sources"].values():
        if "path" in spec:
            spec["path"] = str(REPO_ROOT / spec["path"])
    (tmp_path / "lookups.yaml").write_text(yaml.safe_dump(lookups))
    return flows


def always_open_queues(tmp_path: Path) -> Path:
    """queues.yaml without opening hours, so the tests pass at any time of day."""
    setup = yaml.safe_load((REPO_ROOT / "queues.yaml").read_text())
    for spec in setup["queues"].values():
        spec.pop("hours", None)
    path = tmp_path / "queues.yaml"
    path.write_text(yaml.safe_dump(setup))
    return path


TALK_SECONDS = 90.0  # an answering callee (an agent's phone) talks 90 s: 3 s of real time


@pytest.fixture
def live(redis_url: str, redis: redis_lib.Redis, tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[Live]:
    """A module whose tests decide when their calls end sets its own `STANDIN_TALK_SECONDS`
    (modules elsewhere import this fixture, so a module constant, not another fixture)."""
    talk_seconds = float(getattr(request.module, "STANDIN_TALK_SECONDS", TALK_SECONDS))
    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    callees: dict[str, str] = {}
    config = StandInConfig(app_url=base, auth_token=TOKEN, callees=callees,
                           clock=lambda: RealClock(speed=SPEED), talk_seconds=talk_seconds,
                           max_hold_loops=40, validate=twiml_problems)
    standin_server, state, api_base = start_server(config)
    app = create_app({
        "redis_url": redis_url, "twilio_auth_token": TOKEN, "twilio_account_sid": DEV_ACCOUNT_SID,
        "twilio_api_base": api_base, "public_base_url": base, "instance_dir": tmp_path,
        "prompts_audio_dir": tmp_path / "no-audio", "announce_every": 0, "hold_pause": 15,
        "flows_dir": flows_dir(tmp_path),
        "queues_file": always_open_queues(tmp_path),
    })
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    conn = redis  # flushed before and after each test
    ctx = install_context(conn, build_context(conn, app.config["IVR"]))
    try:
        yield Live(app, base, state, conn, callees, ctx)
    finally:
        state.hang_up()  # callers still holding hang up: no thread outlives us
        state.join(timeout=5)
        server.shutdown()
        standin_server.shutdown()
        thread.join(5)
