"""`ivr bench abuse`: do callers still get fast, correct answers while the web pages are abused?

Two phases on one call centre on 127.0.0.1 (devkit/loadgen/stack.py: gunicorn, a worker, Redis,
the Twilio stand-in), each `--duration` seconds of the same calls (same seed): up to `--calls`
callers on the line at once, placed by the stand-in at a caller's pace (`--speed 1`: prompts
and hold loops take their real time). The first phase is the baseline; in the second, at the
same time and from another process (devkit/loadgen/abuse.py): `--streams` wallboard streams
signed in as a supervisor, a login flood of wrong passwords (`--login-rate` a second) and 2 MiB
bodies posted to /voice and /login (`--oversized-rate` a second each).

Prints one table: webhook p50/p99/max, fallback answers, 5xx, failed connections and lost
calls for both phases, then what the server answered each kind of abuse. Targets with the
abuse on: p99 <= 50 ms, no fallback answer, no 5xx, no lost call. When the installed app has
a separate stream service (`ivr streams`), it is started beside the app as `ivr serve` would.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

import click

from devkit.bench.webhook import Server, free_port
from devkit.loadgen.abuse import AbusePlan, collect, spawn_abuse
from devkit.loadgen.run import describe, percentile, run_load
from devkit.loadgen.stack import Stack
from devkit.loadgen.timing import Timings
from ivr.config.settings import from_env
from ivr.store import keys, redis_connect
from ivr.store.db import database_url, make_engine, upgrade_database
from ivr.store.scripts import text
from ivr.store.users import save_user

SUPERVISOR = "bench-supervisor"


@dataclass
class Phase:
    name: str
    placed: int
    lost: int
    webhooks: int
    p50: float
    p99: float
    worst: float
    fallbacks: int
    server_errors: int
    failed: int
    unfinished: int = 0
    app_errors: int = 0
    unrecorded: int = 0
    hung_up: int = 0
    why: tuple[str, ...] = ()
    writer_behind: int = 0  # ended calls whose record was in Redis, not yet in the database
    failures: tuple[tuple[str, int], ...] = ()  # failed requests by webhook and reason
    per_webhook: tuple[tuple[str, int, float, float], ...] = ()  # kind, count, p50, p99 (ms)
    left: int = 0  # callers who hung up during the phase, at their planned moment
    peak_on_line: int = 0
    mean_on_line: float = 0.0
    load: str = ""  # the machine's load average at the end of the phase

    @property
    def on_target(self) -> bool:
        return (self.p99 <= 50 and self.fallbacks == 0 and self.server_errors == 0
                and self.lost == 0 and self.failed == 0)


def figures(name: str, stack: Any, result: Any) -> Phase:
    samples = list(stack.timings.samples)
    ok = [s[1] * 1000 for s in samples if s[2] == 200]
    lost = (result.with_errors + result.unfinished + result.without_outcome)[:3]
    return Phase(name, result.placed, result.lost, len(samples), percentile(ok, .5),
                 percentile(ok, .99), max(ok, default=float("nan")), stack.timings.fallbacks,
                 sum(1 for s in samples if s[2] >= 500), sum(1 for s in samples if s[2] == 0),
                 len(result.unfinished), len(result.with_errors), len(result.without_outcome),
                 result.hung_up, tuple(f"{sid}: {describe(stack, sid)}" for sid in lost))


def run_phase(stack: Any, name: str, load: dict[str, Any], plan: Any = None,
              ) -> tuple[Phase, dict[str, dict[str, int]]]:
    """One phase's calls (and the abuse, when `plan` is given), scored."""
    stack.timings = Timings()
    abuse = spawn_abuse(plan) if plan is not None else None
    result, _legs = run_load(stack, **load)
    counts = collect(*abuse, timeout=plan.duration + 60) if abuse else {}
    # An outcome is kept once its call_ended event is in Redis; the database may hold it a
    # while later (the writer folds events behind the calls), which is lag, not loss.
    in_redis = ended_in_redis(stack, set(result.without_outcome))
    result.without_outcome = [sid for sid in result.without_outcome if sid not in in_redis]
    phase = figures(name, stack, result)
    phase.writer_behind = len(in_redis)
    phase.per_webhook = per_webhook(stack.timings.samples)
    phase.left = result.left
    phase.peak_on_line, phase.mean_on_line = result.peak_on_line, result.mean_on_line
    phase.load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    phase.failures = tuple(sorted(stack.timings.failures.items(), key=lambda kv: -kv[1]))
    return phase, counts


def per_webhook(samples: list[tuple[str, float, int]]) -> tuple[tuple[str, int, float, float],
                                                                 ...]:
    """Answered requests by webhook (the path): count, p50 and p99 in ms, so the table names
    the slow one."""
    from devkit.loadgen.run import percentile

    by_kind: dict[str, list[float]] = {}
    for kind, seconds, status in samples:
        if status == 200 and kind != "(other)":
            by_kind.setdefault(kind, []).append(seconds * 1000)
    return tuple((kind, len(ms), percentile(ms, .5), percentile(ms, .99))
                 for kind, ms in sorted(by_kind.items()))


def ended_in_redis(stack: Any, call_sids: set[str], batch: int = 5000) -> set[str]:
    """Those of `call_sids` whose call_ended event is in the outcome stream (not yet applied
    by the writer: applied entries are trimmed, and those calls are in the database)."""
    if not call_sids:
        return set()
    conn = redis_connect.connect(stack.redis_url)
    found: set[str] = set()
    start = "-"
    while True:
        entries: list[Any] = list(conn.xrange(keys.events_stream(), min=start,
                                              count=batch) or [])
        for _entry_id, fields in entries:
            sid = text(fields.get(b"call"))
            if text(fields.get(b"kind")) == "call_ended" and sid in call_sids:
                found.add(sid)
        if len(entries) < batch:
            return found
        start = "(" + text(entries[-1][0])


def add_supervisor(stack: Any, password: str) -> None:
    """A supervisor in the stack's database, once the worker has created the tables."""
    from sqlalchemy import inspect


    # the database the stack's processes use: they inherit DATABASE_URL (SQLite when unset)
    url = database_url(from_env().database_url, stack.workdir / "instance")
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + 30
        while "users" not in inspect(engine).get_table_names():
            if time.monotonic() > deadline:
                upgrade_database(url)
                break
            time.sleep(0.5)
        save_user(engine, SUPERVISOR, "supervisor", password)
    finally:
        engine.dispose()


def stream_service(stack: Any) -> Any:
    """Start `ivr streams` beside the app when this install has it (None otherwise): the app
    was told its URL through IVR_STREAM_URL (see `stream_env`)."""
    port = stack.stream_port
    if port is None:
        return None
    server = Server("streams", port, workdir=stack.workdir)
    server.start([sys.executable, "-m", "ivr.commands.cli", "streams", "--host", "127.0.0.1",
                  "--port", str(port)], stack.env)
    return server


def has_stream_service() -> bool:
    return importlib.util.find_spec("ivr.commands.streams") is not None


def table(base: Phase, abused: Phase) -> list[str]:
    rows = [("calls placed", "placed", "{:d}"), ("on the line at most", "peak_on_line", "{:d}"),
            ("on the line, mean", "mean_on_line", "{:.0f}"), ("webhooks", "webhooks", "{:d}"),
            ("webhook p50 ms", "p50", "{:.1f}"), ("webhook p99 ms", "p99", "{:.1f}"),
            ("webhook max ms", "worst", "{:.1f}"), ("fallback answers", "fallbacks", "{:d}"),
            ("5xx", "server_errors", "{:d}"), ("failed connections", "failed", "{:d}"),
            ("lost calls", "lost", "{:d}"), ("  unfinished", "unfinished", "{:d}"),
            ("  application errors", "app_errors", "{:d}"),
            ("  no recorded outcome", "unrecorded", "{:d}"),
            ("hung up during phase", "left", "{:d}"),
            ("hung up at the end", "hung_up", "{:d}"),
            ("records not yet in db", "writer_behind", "{:d}")]
    lines = [f"  {'':<22}{'baseline':>12}{'with abuse':>12}"]
    for label, attr, fmt in rows:
        lines.append(f"  {label:<22}{fmt.format(getattr(base, attr)):>12}"
                     f"{fmt.format(getattr(abused, attr)):>12}")
    lines.append(f"  load average (1/5/15) at the phase's end: baseline {base.load}, "
                 f"with abuse {abused.load}")
    lines += webhook_rows(base, abused)
    for phase in (base, abused):
        lines += [f"  lost ({phase.name}) {why}" for why in phase.why]
        lines += [f"  failed ({phase.name}) {why} x{n}" for why, n in phase.failures]
    return lines


def webhook_rows(base: Phase, abused: Phase) -> list[str]:
    """Per webhook: count and p50 / p99 ms in each phase."""
    rows = {kind: [f"{n:>6} {p50:7.1f} /{p99:8.1f}", "-"] for kind, n, p50, p99 in
            base.per_webhook}
    for kind, n, p50, p99 in abused.per_webhook:
        rows.setdefault(kind, ["-", "-"])[1] = f"{n:>6} {p50:7.1f} /{p99:8.1f}"
    lines = [f"  {'per webhook: count, p50 / p99 ms':<34}{'baseline':>24}{'with abuse':>26}"]
    lines += [f"  {kind:<34}{b:>24}{a:>26}" for kind, (b, a) in sorted(rows.items())]
    return lines


def abuse_lines(counts: dict[str, dict[str, int]], plan: Any) -> list[str]:
    said = {
        "streams": f"wallboard streams ({plan.streams} open at once)",
        "logins": f"login flood ({plan.login_rate:g}/s wrong passwords)",
        "oversized /voice": f"oversized /voice ({plan.body_bytes // 1024} KiB, "
                            f"{plan.oversized_rate:g}/s)",
        "oversized /login": f"oversized /login ({plan.body_bytes // 1024} KiB, "
                            f"{plan.oversized_rate:g}/s)",
        "error": "the abuse process failed"}
    lines = []
    for kind, tally in counts.items():
        parts = [f"{what} x{n}" if not what.startswith("url ") else what
                 for what, n in sorted(tally.items())]
        lines.append(f"  {said.get(kind, kind)}: {', '.join(parts) or 'nothing sent'}")
    return lines


@click.command("abuse")
@click.option("--calls", default=200, show_default=True, help="Callers on the line at once.")
@click.option("--rate", default=10.0, show_default=True, help="New calls a second (up to "
              "--calls on the line).")
@click.option("--duration", default=60.0, show_default=True, help="Seconds of calls per phase.")
@click.option("--speed", default=1.0, show_default=True, help="The stand-in's clock (1: a "
              "caller's pace).")
@click.option("--streams", default=50, show_default=True)
@click.option("--login-rate", default=20.0, show_default=True)
@click.option("--oversized-rate", default=2.0, show_default=True, help="2 MiB posts a second, "
              "to /voice and to /login each.")
@click.option("--agents", default=30, show_default=True, help="Agents answering calls.")
@click.option("--seed", default=11, show_default=True)
def command(calls: int, rate: float, duration: float, speed: float, streams: int,
            login_rate: float, oversized_rate: float, agents: int, seed: int) -> None:
    """Webhook latency and lost calls with and without wallboard, login and body abuse."""
    stream_port = free_port() if has_stream_service() else None
    stack = Stack(speed=speed, stream_port=stream_port, extra_env={
        "IVR_STREAM_URL": f"http://127.0.0.1:{stream_port}"} if stream_port else {})
    password = secrets.token_urlsafe(16)
    # Callers hang up at moments spread over the phase (loadgen/run.py Departures), not all
    # at its end; the few still on the line then hang up (counted apart). Their records may
    # take the outcome writer a while on a busy machine, so they are waited for longer.
    load = {"rate": rate, "duration": duration, "concurrency": calls, "seed": seed,
            "drain": 5.0, "outcome_wait": 60.0, "leave_over_phase": True}
    streamer = None
    try:
        stack.start()
        streamer = stream_service(stack)
        add_supervisor(stack, password)
        stack.staff(extra=agents)
        click.echo(f"{calls} calls at once, {duration:g} s per phase, stand-in speed {speed:g}; "
                   f"streams from {'a stream service' if streamer else 'the web app'}")
        base, _ = run_phase(stack, "baseline", load)
        plan = AbusePlan(stack.base_url, SUPERVISOR, password, duration, streams, login_rate,
                         oversized_rate)
        abused, counts = run_phase(stack, "with abuse", load, plan)
    finally:
        if streamer is not None:
            streamer.stop()
        stack.close()
    for line in table(base, abused):
        click.echo(line)
    click.echo("what the server answered the abuse:")
    for line in abuse_lines(counts, plan):
        click.echo(line)
    click.echo(f"targets with abuse (p99 <= 50 ms, 0 fallback answers, 0 5xx, 0 failed, "
               f"0 lost): {'met' if abused.on_target else 'NOT met'}")
