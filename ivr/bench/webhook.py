"""`ivr bench webhook`: the app's webhook throughput and latency next to a bare Flask endpoint
that returns a fixed TwiML document, served by the same gunicorn settings, in one run.

Each virtual caller plays a short self-service call as Twilio would (signed POSTs, keep-alive):
`/voice`, three `/voice/next` steps (language, opening hours, "yes, solved") and the status
callback; the bare server gets the same requests and answers each with the same fixed document.
`--concurrency` callers run at once (threads spread over `--clients` processes, so the client
is not the bottleneck), for `--duration` seconds after a short warm-up. Prints requests/s and
p50/p95/p99 per endpoint, errors, the ratio app/bare and the machine's core count.

Only 127.0.0.1: the servers are started here, on free ports, and stopped at the end.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import click

from ivr.bench.process_tree import stop_tree

TOKEN = "bench-" + secrets.token_hex(8)
# The servers a benchmark starts refuse to run without a strong session key (ivr/config.py).
SESSION_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)
STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}), ("/voice/next?seq=2", {"Digits": "3"}),
    ("/voice/next?seq=3", {"Digits": "1"}),
    ("/voice/status", {"CallStatus": "completed", "CallDuration": "42"}))
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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
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


def sign(url: str, params: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(TOKEN).compute_signature(url, params))


def post_once(conn: http.client.HTTPConnection, port: int, path: str, body: str,
              headers: dict[str, str]) -> tuple[int, http.client.HTTPConnection]:
    """POST on the kept-alive connection; if the server had closed it while the caller was
    listening (its keep-alive timeout), reconnect and send again, as any HTTP client does.
    Status 0: the request failed on a fresh connection too."""
    for attempt in range(2):
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, conn
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if attempt:
                return 0, conn
    return 0, conn


def play_calls(port: int, stop_at: float, warm_until: float, out: mp.Queue,
               pace: float = 0.0) -> None:
    """One client thread: calls back to back on one keep-alive connection; with `pace`, the
    caller listens for about that many seconds between webhooks, as on a real call."""
    rng = random.Random()
    base = f"http://127.0.0.1:{port}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples: list[tuple[str, float, int]] = []
    while time.monotonic() < stop_at:
        sid = "CA" + uuid.uuid4().hex
        for path, extra in STEPS:
            params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+14155550123",
                      "To": "+14155550100", "CallStatus": "in-progress", **extra}
            body = urlencode(params)
            started = time.perf_counter()
            status, conn = post_once(conn, port, path, body, {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(base + path, params)})
            if time.monotonic() >= warm_until:
                samples.append((path.split("?")[0], time.perf_counter() - started, status))
            if pace:
                time.sleep(pace * rng.uniform(0.5, 1.5))
    out.put(samples)


def client_process(port: int, threads: int, stop_at: float, warm_until: float,
                   out: mp.Queue, pace: float = 0.0) -> None:
    local: mp.Queue = mp.Queue()
    workers = [threading.Thread(target=play_calls,
                                args=(port, stop_at, warm_until, local, pace))
               for _ in range(threads)]
    for w in workers:
        w.start()
    merged = []
    for _ in workers:
        merged.extend(local.get())
    for w in workers:
        w.join()
    out.put(merged)


def drive(port: int, concurrency: int, clients: int, duration: float,
          warmup: float, pace: float = 0.0) -> list[tuple[str, float, int]]:
    start = time.monotonic()
    warm_until, stop_at = start + warmup, start + warmup + duration
    out: mp.Queue = mp.Queue()
    per = [concurrency // clients + (1 if i < concurrency % clients else 0)
           for i in range(clients)]
    procs = [mp.Process(target=client_process, args=(port, n, stop_at, warm_until, out, pace))
             for n in per if n]
    for p in procs:
        p.start()
    samples = []
    for _ in procs:
        samples.extend(out.get())
    for p in procs:
        p.join()
    return samples


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


def measured(pids: list[int], run: Callable[[], list[tuple[str, float, int]]],
             ) -> tuple[list[tuple[str, float, int]], float]:
    """Run the load; return its samples and the servers' CPU milliseconds per request (the
    warm-up's requests are not sampled but cost CPU too, so this errs high)."""
    before = cpu_seconds(*pids)
    samples = run()
    return samples, (cpu_seconds(*pids) - before) * 1000 / max(len(samples), 1)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, samples: list[tuple[str, float, int]], duration: float) -> float:
    ok = [s for s in samples if s[2] == 200]
    errors = len(samples) - len(ok)
    rate = len(ok) / duration
    click.echo(f"\n{name}: {rate:,.0f} requests/s, {errors} errors, {len(samples)} requests")
    click.echo(f"  {'endpoint':<16}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for endpoint in sorted({s[0] for s in samples}) + ["(all)"]:
        lat = [s[1] * 1000 for s in ok if endpoint in ("(all)", s[0])]
        click.echo(f"  {endpoint:<16}{len(lat):>8}{percentile(lat, .5):>9.1f}"
                   f"{percentile(lat, .95):>9.1f}{percentile(lat, .99):>9.1f}")
    return rate


@click.command("webhook")
@click.option("--concurrency", default=200, show_default=True, help="Calls in flight at once.")
@click.option("--duration", default=20.0, show_default=True, help="Measured seconds per server.")
@click.option("--warmup", default=3.0, show_default=True)
@click.option("--clients", default=2, show_default=True, help="Client processes.")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers (both servers).")
@click.option("--threads", default=4, show_default=True, help="gunicorn threads per worker.")
@click.option("--worker-class", default="gthread", show_default=True,
              help="gunicorn worker class (both servers).")
@click.option("--pace", default=3.0, show_default=True,
              help="Seconds between a call's webhooks in the paced run (a caller listening).")
def command(concurrency: int, duration: float, warmup: float, clients: int, workers: int,
            threads: int, worker_class: str, pace: float) -> None:
    """Webhook throughput and latency: the app vs a bare Flask endpoint, same server."""
    cpu = platform.processor() or platform.machine()
    click.echo(f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; "
               f"gunicorn {workers} {worker_class} workers x {threads} threads; "
               f"{concurrency} concurrent calls, {clients} client processes, "
               f"{duration:g} s measured")
    env = dict(os.environ)
    bare, app = Server("bare", free_port()), Server("app", free_port())
    (bare.workdir / "bare_app.py").write_text(BARE_APP)
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                "SECRET_KEY": SESSION_KEY,
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{app.port}",
                "IVR_INSTANCE_DIR": str(app.workdir / "instance"),
                # IVR_BENCH_APP_PATH: serve another checkout of the app (a before/after run)
                "PYTHONPATH": os.pathsep.join(filter(None, [
                    str(bare.workdir), env.get("IVR_BENCH_APP_PATH"), env.get("PYTHONPATH")]))})
    env.setdefault("IVR_PROMPTS_AUDIO_DIR", str(app.workdir / "no-audio"))
    embedded = None
    if not env.get("REDIS_URL"):
        from ivr.store.embedded_redis import EmbeddedRedis

        embedded = EmbeddedRedis(app.workdir / "redis").start()
        env["REDIS_URL"] = embedded.url
    click.echo(f"redis: {env['REDIS_URL']}")
    try:
        bare.start(gunicorn_args("bare_app:app", bare.port, workers, threads, worker_class), env)
        app.start(gunicorn_args("ivr:create_app()", app.port, workers, threads,
                                worker_class), env)
        bare_pids = [bare.proc.pid] if bare.proc else []
        app_pids = [p.pid for p in (app.proc, embedded.process if embedded else None) if p]
        bare_samples, bare_cpu = measured(bare_pids, lambda: drive(
            bare.port, concurrency, clients, duration, warmup))
        base_rate = report("bare Flask endpoint (fixed TwiML)", bare_samples, duration)
        click.echo(f"  server CPU per request: {bare_cpu:.2f} ms")
        redis_before = cpu_seconds(*app_pids[1:])
        app_samples, app_cpu = measured(app_pids, lambda: drive(
            app.port, concurrency, clients, duration, warmup))
        redis_cpu = (cpu_seconds(*app_pids[1:]) - redis_before) * 1000 / max(len(app_samples), 1)
        app_rate = report("the app (signature check, flow engine, Redis state, events)",
                          app_samples, duration)
        click.echo(f"  server CPU per request: {app_cpu:.2f} ms (of which Redis "
                   f"{redis_cpu:.2f} ms)")
        paced = drive(app.port, concurrency, clients, duration, warmup, pace=pace)
        report(f"the app, {concurrency} calls at a caller's pace (~{pace:g} s between "
               "webhooks)", paced, duration)
    finally:
        app.stop()
        bare.stop()
        if embedded is not None:
            embedded.stop()
    p99 = percentile([s[1] * 1000 for s in paced if s[2] == 200], .99)
    click.echo(f"\nserver CPU per request, bare / app: {bare_cpu / app_cpu:.0%} (what the "
               "throughput ratio tends to when the servers have the cores to themselves)")
    click.echo(f"saturated throughput, app / bare: {app_rate / base_rate:.0%} (target >= 50%)"
               f"; app p99 at a caller's pace with {concurrency} calls: {p99:.1f} ms "
               "(target <= 50 ms)")
