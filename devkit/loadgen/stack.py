"""A call centre on 127.0.0.1 for load, fault and soak runs: Redis (embedded, AOF on, unless
REDIS_URL is given), the app under gunicorn (or, with `server="serve"`, `ivr serve`'s
development server, as `ivr demo` runs it), one or more `ivr worker` processes and the Twilio
stand-in in this process, its legs timed (see timing.py) on a sped-up clock.

Everything is started on free ports and stopped by `close()`: nothing is left behind.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.bench.webhook import SESSION_KEY, TOKEN, Server, free_port, gunicorn_args
from devkit.loadgen.timing import TimedTransport, Timings
from devkit.twilio_standin.clock import RealClock
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandInConfig
from devkit.twilio_standin.transport import HttpTransport
from ivr.config.queues import build_queue_service
from ivr.config.settings import from_env
from ivr.domain.queueing import Agent
from ivr.store import redis_connect
from ivr.store.embedded_redis import EmbeddedRedis
from ivr.store.jobs import ROUTING_QUEUE, RqTrigger
from ivr.store.operator_flags import set_flag

READY_WAIT = 60.0


def wait_ready(url: str, workers: int) -> None:
    """Wait until the app answers /readyz a few times in a row (gunicorn's master listens
    before its workers have booted): a load run measures calls, not the servers' start."""
    import urllib.error
    import urllib.request

    deadline, streak = time.monotonic() + READY_WAIT, 0
    while streak < 2 * workers and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                streak = streak + 1 if resp.status == 200 else 0
        except (OSError, urllib.error.URLError):
            streak = 0
            time.sleep(0.2)


@dataclass
class Stack:
    speed: float = 10.0
    server: str = "gunicorn"  # or "serve": the development server
    workers: int = 2
    threads: int = 8
    worker_processes: int = 1
    timings: Timings = field(default_factory=Timings)
    app: Server = field(default_factory=lambda: Server("app", free_port()))
    redis: Any = None
    redis_url: str = ""
    worker_procs: list[Server] = field(default_factory=list)
    standin: Any = None
    standin_server: Any = None
    env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)  # settings a run adds or overrides
    stream_port: int | None = None  # a stream service beside the app (ivr bench abuse)

    @property
    def workdir(self) -> Path:
        return self.app.workdir

    def start(self) -> Stack:
        import logging


        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-in's access log

        from ivr.config.settings import from_env

        self.redis_url = from_env().redis_url or ""
        if not self.redis_url:
            self.redis = EmbeddedRedis(self.workdir / "redis").start()
            self.redis_url = self.redis.url
        self._start_standin()
        self.env = {**os.environ, "REDIS_URL": self.redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
                    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "SECRET_KEY": SESSION_KEY,
                    "TWILIO_API_BASE": self.standin.config.api_base,
                    "PUBLIC_BASE_URL": self.base_url,
                    "IVR_INSTANCE_DIR": str(self.workdir / "instance"),
                    "IVR_PROMPTS_AUDIO_DIR": str(self.workdir / "no-audio"),
                    "IVR_ANNOUNCE_EVERY": "45", "IVR_HOLD_PAUSE": "15",
                    "IVR_DEVICE_STALE_SECONDS": "86400", **self.extra_env}
        self.start_app()
        for _ in range(self.worker_processes):
            self.start_worker()
        self.open_all_hours()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.app.port}"

    def _start_standin(self) -> None:
        netloc = f"127.0.0.1:{self.app.port}"
        config = StandInConfig(
            app_url=self.base_url, auth_token=TOKEN, clock=lambda: RealClock(self.speed),
            transport=lambda: TimedTransport(HttpTransport(), self.timings, netloc),
            talk_seconds=60, max_hold_loops=60, fallback_path="/voice/fallback")
        self.standin_server, self.standin, _ = start_server(config)

    def start_app(self) -> None:
        if self.server == "serve":  # with its stream service as a child, as `ivr demo` has
            streams = (["--streams-port", str(self.stream_port)] if self.stream_port
                       else ["--no-streams"])
            self.app.start([sys.executable, "-m", "ivr.commands.cli", "serve", "--port",
                            str(self.app.port), *streams], self.env)
            wait_ready(f"{self.base_url}/readyz", 1)
            return
        self.app.start(gunicorn_args("ivr:create_app()", self.app.port, self.workers,
                                     self.threads), self.env)
        wait_ready(f"{self.base_url}/readyz", self.workers)


    def start_worker(self) -> Server:
        worker = Server(f"worker{len(self.worker_procs)}", 0, workdir=self.workdir)
        worker.start_process([sys.executable, "-m", "ivr.commands.cli", "worker"], self.env)
        self.worker_procs.append(worker)
        return worker

    def engine(self) -> Any:
        from rq import Queue


        conn = redis_connect.connect(self.redis_url)
        config = from_env().with_overrides({"redis_url": self.redis_url})
        return build_queue_service(config, conn, RqTrigger(Queue(ROUTING_QUEUE, connection=conn)))

    def open_all_hours(self) -> None:
        set_flag(redis_connect.connect(self.redis_url), "always_open", "on")

    def staff(self, *agent_ids: str, extra: int = 0) -> None:
        """Make agents available: the given ones, else everyone in queues.yaml plus `extra`
        generated agents with every skill (a load run needs a call centre's headcount)."""
        engine = self.engine()
        for i in range(extra):
            engine.agents.upsert(Agent(f"load{i:03d}", f"Load agent {i}", f"client:load{i:03d}",
                                       {"support": 4, "sales": 4, "billing": 4}), time.time())
        ids = agent_ids or tuple(a.id for a in engine.agents.all())
        for agent_id in ids:
            # simulated softphones: registered once, fresh for the run (IVR_DEVICE_STALE_SECONDS)
            engine.agents.device(agent_id, "registered", time.time())
            engine.agent_presence(agent_id, "available", time.time())

    def close(self, *others: Server) -> None:
        """Stop everything, `others` (a stream service beside the app) too, whatever fails on
        the way; then raise if any process of the stack is still running (Server.stop)."""
        if self.standin is not None:
            self.standin.hang_up()
            self.standin.join(timeout=5)
            self.standin_server.shutdown()
        left = []
        for server in [*self.worker_procs, self.app, *others]:
            try:
                server.stop()
            except RuntimeError as exc:
                left.append(str(exc))
        if self.redis is not None:
            self.redis.stop()
        if left:
            raise RuntimeError("teardown left processes running: " + "; ".join(left))
