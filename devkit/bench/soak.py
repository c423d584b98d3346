"""`ivr bench soak`: the stack left running under steady traffic, watched for anything that
leaks (issue 12: after five minutes of the demo with the wallboard open, every webhook failed
with "Too many connections").

Starts the stack of `ivr load` (devkit/loadgen/stack.py: Redis, the app on `ivr serve`'s
development server as `ivr demo` runs it, or on gunicorn, an `ivr worker`, the Twilio stand-in
in this process), staffs the queues, keeps `--streams` supervisors on the wallboard's live
stream (devkit/loadgen/wallboard_watch.py) and places the demo's callers (its errands, from
`ivr demo-traffic`) at a steady `--rate`. At the start, after the warm-up, every `--every`
minutes and at the end it prints webhooks answered, fallback answers, 5xx, Redis clients per
process, database connections, memory and threads of every process (devkit/loadgen/probe.py).

Exits 1 when a webhook got the fallback apology, a 5xx or no answer, a caller heard an
application error, a wallboard stream failed, a process held more Redis connections than its
pool allows (per client name), or a process of the stack grew by more than a bound in
memory, database connections or threads between the end of the warm-up and the end (this
process, which plays the callers, is reported but not judged). A bounded pool grows up to
its limit with the traffic's peaks, so Redis connections are judged against the limit, not
against the warm-up. Not part of the test suite: the lead runs it (30 minutes).
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from devkit.bench.abuse import stream_service
from devkit.bench.webhook import free_port
from devkit.loadgen.probe import NAME, Look, Probe, describe
from devkit.loadgen.scenarios import SCENARIOS, caller_number, fill
from devkit.loadgen.stack import Stack
from devkit.loadgen.wallboard_watch import WallboardWatch
from ivr.config.settings import from_env
from ivr.store import redis_connect
from ivr.store.db import database_url, make_engine

FORGET_AFTER = 600.0  # s after a call ended before the stand-in forgets it (reconciler: 300 s)
SUPERVISOR = "soak-supervisor"


@dataclass(frozen=True)
class Bounds:
    redis_per_process: int  # per client name: IVR_REDIS_MAX_CONNECTIONS plus RQ's scheduler
    rss_growth_mb: float
    db_growth: int = 5  # per process
    thread_growth: int = 10  # per process (the development server's are fixed)


@dataclass
class Traffic:
    """Callers placed at a steady rate through the in-process stand-in."""

    stack: Stack
    rate: float
    concurrency: int
    rng: random.Random
    legs: dict[str, Any] = field(default_factory=dict)
    ended_at: dict[str, float] = field(default_factory=dict)
    placed: int = 0
    heard_errors: list[str] = field(default_factory=list)
    next_at: float = 0.0

    def tick(self, now: float) -> None:
        active = sum(1 for leg in self.legs.values() if not leg.ended)
        if now >= self.next_at and active < self.concurrency:
            scenario = self.rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
            leg = self.stack.standin.start_inbound(caller_number(self.rng), scenario.to,
                                                   fill(scenario, self.rng))
            self.legs[leg.call_sid] = leg
            self.placed += 1
            self.next_at = max(self.next_at, now) + self.rng.expovariate(self.rate)

    def tidy(self, now: float) -> None:
        """Note calls that ended (and any that heard an error); forget old ones."""
        for sid, leg in self.legs.items():
            if leg.ended and sid not in self.ended_at:
                self.ended_at[sid] = now
                if not leg.transcript.ok:
                    self.heard_errors.append(sid)
        old = [sid for sid, at in self.ended_at.items() if now - at > FORGET_AFTER]
        for sid in old:
            self.legs.pop(sid, None)
            del self.ended_at[sid]
        self.stack.standin.forget(old)

    @property
    def in_progress(self) -> int:
        return sum(1 for leg in self.legs.values() if not leg.ended)


def webhook_figures(stack: Stack) -> dict[str, int]:
    """What the stand-in saw of the app's answers, since the start."""
    with stack.timings.lock:
        samples = list(stack.timings.samples)
        fallbacks = stack.timings.fallbacks
    app = [s for s in samples if s[0] != "(other)"]
    return {"answered": sum(1 for s in app if s[2] == 200), "fallback": fallbacks,
            "5xx": sum(1 for s in app if s[2] >= 500),
            "4xx": sum(1 for s in app if 400 <= s[2] < 500),
            "no answer": sum(1 for s in app if s[2] == 0),
            "failed over": sum(1 for s in app if s[0] == "/voice/fallback")}


def report(label: str, started: float, look: Look, traffic: Traffic,
           watches: list[WallboardWatch], stack: Stack) -> None:
    hooks = webhook_figures(stack)
    clock = datetime.now(UTC).strftime("%H:%M:%S")
    minutes = (look.at - started) / 60
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    click.echo(f"\n[{clock} UTC, {minutes:5.1f} min] {label} (load average {load})")
    click.echo(f"  calls placed {traffic.placed} ({traffic.in_progress} in progress, "
               f"{len(traffic.heard_errors)} heard an application error)")
    click.echo("  webhooks: " + ", ".join(f"{v:,} {k}" for k, v in hooks.items()))
    with stack.timings.lock:
        failures = sorted(stack.timings.failures.items())
        examples = list(stack.timings.examples)
    for reason, count in failures:
        click.echo(f"    no answer, {reason}: {count}")
    for example in examples[:3]:
        click.echo(f"    e.g. {example}")
    click.echo(f"  wallboard: {len(watches)} supervisors, "
               f"{sum(w.streams for w in watches)} streams opened, "
               f"{sum(w.events for w in watches):,} events, "
               f"{sum(len(w.errors) for w in watches)} errors")
    for line in describe(look):
        click.echo(line)


def problems(first: Look, last: Look, traffic: Traffic, watches: list[WallboardWatch],
             stack: Stack, bounds: Bounds) -> list[str]:
    """Why the run failed (empty: it passed)."""
    found = []
    hooks = webhook_figures(stack)
    for name in ("fallback", "5xx", "no answer"):
        if hooks[name]:
            found.append(f"{hooks[name]} webhooks: {name}")
    with stack.timings.lock:  # why (a reset kept-alive connection, a timeout, ...)
        found += [f"  no answer, {why}: {n}" for why, n in sorted(stack.timings.failures.items())]
    if traffic.heard_errors:
        found.append(f"{len(traffic.heard_errors)} callers heard an application error, e.g. "
                     f"{traffic.heard_errors[0]}")
    found += [f"wallboard: {e}" for w in watches for e in w.errors[:3]]
    if not any(w.events for w in watches) and watches:
        found.append("wallboard: no event received")
    found += _growth(first, last, bounds)
    return found


def _growth(first: Look, last: Look, bounds: Bounds) -> list[str]:
    found = [f"{name}: {count} Redis connections (pool limit {bounds.redis_per_process})"
             for name, count in last.by_name.items()
             if NAME.match(name) and count > bounds.redis_per_process]
    before = {p.pid: p for p in first.processes}
    for p in last.processes:
        was = before.get(p.pid)
        if was is None or p.role == "soak":  # this process: the stand-in's call legs
            continue
        checks = ((p.rss_mb - was.rss_mb, bounds.rss_growth_mb, "MB of memory"),
                  (p.db - was.db, bounds.db_growth, "database connections"),
                  (p.threads - was.threads, bounds.thread_growth, "threads"))
        for grew, limit, what in checks:
            if grew > limit:
                found.append(f"{p.role} {p.pid}: {grew:+.1f} {what} since the warm-up "
                             f"(bound {limit})")
    return found


def add_supervisor(stack: Stack, name: str = SUPERVISOR) -> str:
    password = secrets.token_urlsafe(12)
    subprocess.run([sys.executable, "-m", "ivr.commands.cli", "user", "add", name, "--role",
                    "supervisor", "--password-stdin"], input=password.encode(), env=stack.env,
                   check=True, capture_output=True, timeout=120)
    return password


def make_probe(stack: Stack, streamer: Any) -> Probe:
    config = from_env(stack.env)
    roots = {"web": stack.app.proc.pid if stack.app.proc else 0, "soak": os.getpid()}
    for i, worker in enumerate(stack.worker_procs):
        roots[f"worker{i}"] = worker.proc.pid if worker.proc else 0
    if streamer is not None and streamer.proc is not None:  # beside gunicorn (start_stack)
        roots["streams"] = streamer.proc.pid
    if stack.redis is not None and stack.redis.process is not None:
        roots["redis"] = stack.redis.process.pid
    url = database_url(config.database_url, config.instance_dir)
    probe = Probe(redis_connect.connect(stack.redis_url, max_connections=2,
                                        client_name="ivr-soak-probe"), roots)
    if url.startswith("sqlite"):
        probe.sqlite_file = url.removeprefix("sqlite:///")
    else:
        probe.pg_engine = make_engine(url, pool_size=1, max_overflow=0)
        probe.pg_port = int(probe.pg_engine.url.port or 5432)
    return probe


def start_stack(server: str, speed: float) -> tuple[Stack, Any]:
    """The stack, with the wallboard's stream service: `ivr serve` starts it as its child;
    beside gunicorn it is started here (as compose.yaml runs it apart), as `ivr bench abuse`
    does."""
    port = free_port()
    extra = {"IVR_STREAM_URL": f"http://127.0.0.1:{port}"} if server == "gunicorn" else {}
    stack = Stack(speed=speed, server=server, stream_port=port, extra_env=extra).start()
    return stack, stream_service(stack) if server == "gunicorn" else None


def teardown(stack: Stack, streamer: Any) -> list[str]:
    """Stop the stack (and the stream service); a process left running is a problem."""
    try:
        stack.close(*([streamer] if streamer is not None else []))
    except RuntimeError as exc:
        return [str(exc)]
    click.echo("teardown: every process of the stack has ended")
    return []


@dataclass(frozen=True)
class Plan:
    minutes: float
    every: float
    warmup: float
    streams: int


def run(stack: Stack, streamer: Any, traffic: Traffic, plan: Plan,
        bounds: Bounds) -> list[str]:
    """The soak itself, on a started stack; returns the problems found."""
    stack.staff(extra=8)
    # One account per screen, as a floor of supervisors has: a dozen screens signing in as
    # one user from one address at the same instant meet the sign-in limit per (client,
    # user) (issue 12.3), which answers the extra tries 429 until the first ones succeed.
    names = [f"{SUPERVISOR}-{i}" for i in range(plan.streams)]
    watches = [WallboardWatch(stack.base_url, name, add_supervisor(stack, name)).start()
               for name in names]
    probe = make_probe(stack, streamer)
    started = time.monotonic()
    report("start", started, probe.look(started), traffic, watches, stack)
    end, warm = started + plan.minutes * 60, started + plan.warmup * 60
    next_report, baseline = started + plan.every * 60, None
    traffic.next_at = started
    try:
        while (now := time.monotonic()) < end:
            traffic.tick(now)
            traffic.tidy(now)
            if baseline is None and now >= warm:
                baseline = probe.look(now)
                report("after the warm-up (the baseline)", started, baseline, traffic,
                       watches, stack)
            elif now >= next_report:
                report("running", started, probe.look(now), traffic, watches, stack)
                next_report += plan.every * 60
            time.sleep(0.02)
        last = probe.look(time.monotonic())
        report("end", started, last, traffic, watches, stack)
    finally:
        for watch in watches:
            watch.close()
    return problems(baseline or last, last, traffic, watches, stack, bounds)


@click.command("soak")
@click.option("--minutes", default=30.0, show_default=True, help="How long to run.")
@click.option("--server", type=click.Choice(["serve", "gunicorn"]), default="serve",
              show_default=True, help="serve: `ivr serve`, as `ivr demo` runs the app.")
@click.option("--rate", default=1.0, show_default=True, help="Callers per second (mean).")
@click.option("--speed", default=10.0, show_default=True, help="Stand-in clock speed.")
@click.option("--concurrency", default=60, show_default=True, help="Calls on the line at most.")
@click.option("--streams", default=3, show_default=True, help="Wallboard streams kept open.")
@click.option("--every", default=5.0, show_default=True, help="Minutes between reports.")
@click.option("--warmup", default=1.0, show_default=True,
              help="Minutes before the baseline the growth bounds compare with.")
@click.option("--max-rss-growth", default=50.0, show_default=True,
              help="MB a process may grow after the warm-up.")
@click.option("--seed", default=None, type=int)
def command(minutes: float, server: str, rate: float, speed: float, concurrency: int,
            streams: int, every: float, warmup: float, max_rss_growth: float,
            seed: int | None) -> None:
    """Run the stack for a while under steady calls and wallboard streams; fail on leaks."""
    limit = from_env().redis_max_connections
    click.echo(f"soak: {minutes:g} min on {server}, {rate:g} calls/s (clock x{speed:g}), "
               f"{streams} wallboard streams, Redis pool {limit} per process")
    stack, streamer = start_stack(server, speed)
    found: list[str] = []
    try:
        found += run(stack, streamer, Traffic(stack, rate, concurrency, random.Random(seed)),
                     Plan(minutes, every, min(warmup, minutes / 2), streams),
                     Bounds(redis_per_process=limit + 3, rss_growth_mb=max_rss_growth))
    finally:
        found += teardown(stack, streamer)
    if found:
        click.echo("\nsoak FAILED:\n  " + "\n  ".join(found))
        raise SystemExit(1)
    click.echo("\nsoak passed: no fallback, no 5xx, nothing grew past its bound")
