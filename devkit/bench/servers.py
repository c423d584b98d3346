"""The servers a benchmark starts: free ports, gunicorn processes, the bare Flask endpoint, and
the app served as shipped or with a shortcut turned off (`ivr bench webhook --switches`).

Only 127.0.0.1: servers are started on free ports and stopped by whoever started them.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click

from devkit.bench.process_tree import stop_tree
from ivr.store.embedded_redis import EmbeddedRedis

TOKEN = "bench-" + secrets.token_hex(8)
# The servers a benchmark starts refuse to run without a strong session key
# (ivr/config/settings.py): one random key per run, handed to each server it starts (their
# environment, never ours).
SESSION_KEY = secrets.token_urlsafe(48)
BARE_APP = '''
from flask import Flask, Response
app = Flask(__name__)
DOC = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf" numDigits="1" '
       'action="http://127.0.0.1/voice/next?seq=1"><Say>Welcome. Press 1.</Say></Gather>'
       '</Response>')

@app.post("/voice")
@app.post("/voice/next")
@app.post("/voice/status")
def answer():
    return Response(DOC, mimetype="text/xml")
'''


LISTEN_PORTS = range(20000, 32000)
"""Where servers started here listen: below Linux's ephemeral range (32768-60999 by default),
so the local port of an outgoing connection (Redis, HTTP clients) never takes a port chosen
here between the choice and the server's bind. A port the kernel hands out for bind(0) is in
that range, and its neighbour (`ivr serve` puts the stream service on port + 1) is the kind
the kernel prefers for connect(): a CI run lost two tests to exactly that."""


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port whose neighbour (port + 1) is free too, outside the ephemeral range."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop - 1)
        if _bindable(port) and _bindable(port + 1):
            return port
    with socket.socket() as s:  # a machine with that whole range taken: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# How long a server may take to listen: `ivr serve` imports the app and checks the flows,
# which took 40-52 s on a 2-core machine at load 15-20; a server that fails exits sooner.
START_SECONDS = 90


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ivr-bench-")))

    def start_process(self, args: list[str], env: dict[str, str]) -> None:
        """Start without waiting for a port (workers listen on none)."""
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(args, env=env, cwd=self.workdir, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, args: list[str], env: dict[str, str]) -> None:
        self.start_process(args, env)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc is not None and self.proc.poll() is not None:
                    break  # it exited: no use waiting for its port
                time.sleep(0.2)
        raise click.ClickException(f"{self.name} did not start; see {self.workdir}")

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server and every process it started, in whatever process group (an RQ
        work horse has its own: process_tree.py); SIGKILL after `grace` seconds. Raises when
        a process of it is still running after that, rather than leave it behind unseen."""
        if self.proc is None:
            return
        left = stop_tree(self.proc.pid, grace)
        self.proc.poll()  # reaped by stop_tree's wait: let Popen know
        if left:
            raise RuntimeError(f"{self.name}: processes {left} still running after SIGKILL")


def gunicorn_args(app: str, port: int, workers: int, threads: int,
                  worker_class: str = "gthread") -> list[str]:
    return [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class,
            "--log-level", "warning", "--timeout", "30"]


# What each shortcut buys: the app served again with one of them turned off (same Redis, same
# gunicorn settings), side by side with the app as shipped and the bare endpoint.
SWITCHES: dict[str, dict[str, str]] = {
    "app": {},
    "app, webhook lane off": {"IVR_WEBHOOK_LANE": "0"},
    "app, lean Redis off": {"IVR_LEAN_REDIS": "0"},
    "app, one-trip start off": {"IVR_ONE_TRIP_START": "0"},
    "app, connection back per request": {"IVR_LEAN_REDIS_KEEP": "0"},
    "app, held socket polls": {"IVR_LEAN_REDIS_BLOCKING": "0"},
    "app, fast form off": {"IVR_FAST_FORM": "0"},
    "app, TwiML memo off": {"IVR_TWIML_MEMO": "0"},
    "app, first-step memo off": {"IVR_FIRST_STEP_MEMO": "0"},
    # the memo keys documents by the prompt audio's check window, so this turns it off too
    "app, prompt files per lookup": {"IVR_PROMPT_CHECK_EVERY": "0"},
}


def cpu_seconds(*pids: int) -> float:
    """User + system CPU of these processes and their children now (Linux /proc), so a run
    reports what a request cost the servers, whatever else the machine was doing."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        except OSError:
            children = []
        for one in [pid, *map(int, children)]:
            try:
                fields = open(f"/proc/{one}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class BenchServers:
    """The servers of one bench run: "bare" plus one app per variant, and the Redis they share
    (its pid when it is the embedded one this bench started, so its CPU is counted)."""
    servers: dict[str, Server]
    redis_pids: list[int]

    def pids(self, name: str) -> list[int]:
        proc = self.servers[name].proc
        own = [proc.pid] if proc else []
        return own if name == "bare" else own + self.redis_pids


def server_env(app: Server, bare: Server, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                "SECRET_KEY": SESSION_KEY, "REDIS_URL": redis_url,
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{app.port}",
                "IVR_INSTANCE_DIR": str(app.workdir / "instance"),
                # IVR_BENCH_APP_PATH: serve another checkout of the app (a before/after run)
                "PYTHONPATH": os.pathsep.join(filter(None, [
                    str(bare.workdir), env.get("IVR_BENCH_APP_PATH"), env.get("PYTHONPATH")]))})
    env.setdefault("IVR_PROMPTS_AUDIO_DIR", str(app.workdir / "no-audio"))
    return env


@contextmanager
def started(variants: dict[str, dict[str, str]], workers: int, threads: int,
            worker_class: str) -> Iterator[BenchServers]:
    """Start the bare server and one app per variant (its env overrides), all on the same
    gunicorn settings and Redis (`REDIS_URL`, else an embedded one); stop them all at the end."""
    bare = Server("bare", free_port())
    (bare.workdir / "bare_app.py").write_text(BARE_APP)
    servers = {"bare": bare, **{name: Server("app", free_port()) for name in variants}}
    from ivr.config.settings import from_env

    embedded, redis_url = None, from_env().redis_url or ""
    if not redis_url:
        embedded = EmbeddedRedis(bare.workdir / "redis").start()
        redis_url = embedded.url
    click.echo(f"redis: {redis_url}")
    was_empty = embedded is None and _redis_db_empty(redis_url)
    try:
        bare.start(gunicorn_args("bare_app:app", bare.port, workers, threads, worker_class),
                   server_env(bare, bare, redis_url))
        for name, overrides in variants.items():
            app = servers[name]
            args = gunicorn_args("ivr:create_app()", app.port, workers, threads, worker_class)
            app.start(args, {**server_env(app, bare, redis_url), **overrides})
        yield BenchServers(servers, [embedded.process.pid] if embedded and embedded.process else [])
    finally:
        stop_all(servers.values())
        if embedded is not None:
            embedded.stop()
        elif was_empty:
            _flush(redis_url)


def stop_all(servers: Iterable[Server]) -> None:
    """Stop every server whatever fails; then raise the first failure."""
    failures = []
    for server in servers:
        try:
            server.stop()
        except RuntimeError as exc:
            failures.append(exc)
    if failures:
        raise failures[0]


def _redis_db_empty(url: str) -> bool:
    import redis

    return int(redis.Redis.from_url(url).dbsize()) == 0


def _flush(url: str) -> None:
    """Empty the database the run filled: only called when it was empty at the start, so
    nothing the bench did not write is lost (the calls' events have no TTL)."""
    import redis

    # ASYNC: a run leaves tens of thousands of calls; a synchronous FLUSHDB of them outlasted
    # the client's socket timeout on the loaded machine (the server emptied it all the same)
    redis.Redis.from_url(url).flushdb(asynchronous=True)
    click.echo(f"redis: emptied {url} again (it was empty at the start)")


