"""`ivr bench faults`: a load run with faults injected, then the counts that matter.

During `--duration` seconds of calls (devkit/loadgen): at 25 % a worker is killed with SIGKILL
(and a new one started, as a process supervisor would), at 50 % one gunicorn web process is
killed with SIGKILL while a webhook is in flight (gunicorn's master replaces it), at 70 %
Redis is killed with SIGKILL and started again from its AOF a few seconds later. Then the run
drains and prints: callers lost or stuck, callbacks booked / kept / lost / placed twice, calls
without a recorded outcome, the callers who heard the fallback route while Redis was away,
the webhooks that went to the VoiceFallbackUrl and the status callbacks spooled meanwhile.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import click

from devkit.loadgen.run import report_lines, run_load
from devkit.loadgen.stack import Stack
from ivr.config.settings import from_env
from ivr.store import keys, redis_connect
from ivr.store.db import database_url


class Faults:
    def __init__(self, stack: Any, duration: float, redis_down: float) -> None:
        self.stack = stack
        self.duration = duration
        self.redis_down = redis_down
        self.done: set[str] = set()
        self.log: list[str] = []
        self.redis_back_at: float | None = None

    def __call__(self, elapsed: float) -> None:
        share = elapsed / self.duration
        if share >= 0.25 and "worker" not in self.done:
            self.done.add("worker")
            victim = self.stack.worker_procs[0]
            os.killpg(victim.proc.pid, signal.SIGKILL)
            self.stack.start_worker()
            self.note(elapsed, f"killed worker pid {victim.proc.pid} (SIGKILL), started another")
        if share >= 0.5 and "web" not in self.done and self.busy(share):
            self.done.add("web")
            pid = self.web_child()
            if pid:
                os.kill(pid, signal.SIGKILL)
                self.note(elapsed, f"killed web process pid {pid} (SIGKILL)")
        if share >= 0.7 and "redis" not in self.done:
            self.done.add("redis")
            self.stack.redis.process.kill()
            self.stack.redis.process.wait()
            self.redis_back_at = elapsed + self.redis_down
            self.note(elapsed, f"killed Redis (SIGKILL); down for {self.redis_down:g} s")
        if self.redis_back_at is not None and elapsed >= self.redis_back_at:
            self.redis_back_at = None
            self.stack.redis.start()
            self.note(elapsed, "Redis started again from its AOF")
            self.revive_workers(elapsed)

    def busy(self, share: float) -> bool:
        """Kill the web process while a webhook is in flight (one of the two processes is
        serving it), so the run exercises a request dying with its process; give up waiting
        after 10 % of the run."""
        return self.stack.timings.in_flight > 0 or share >= 0.6

    def revive_workers(self, elapsed: float) -> None:
        for worker in list(self.stack.worker_procs):
            if worker.proc.poll() is not None:
                self.stack.start_worker()
                self.note(elapsed, "a worker had stopped with Redis: started another")

    def web_child(self) -> int | None:
        """One gunicorn worker process (a child of the master)."""
        master = self.stack.app.proc.pid
        try:
            children = open(f"/proc/{master}/task/{master}/children").read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def note(self, elapsed: float, text: str) -> None:
        self.log.append(f"  [{elapsed:6.1f}s] {text}")


def callback_counts(stack: Any) -> dict[str, int]:
    """From the outcome database: callbacks booked, completed, given up, still pending, and
    those answered more than once (a callback placed twice). Counted per callback id: a
    second request from the same number is merged into the first (one call back for both),
    and its row keeps the request while the first row records the outcome."""
    from sqlalchemy import create_engine, text


    # the database the stack's processes use: they inherit DATABASE_URL (SQLite when unset)
    engine = create_engine(database_url(from_env().database_url,
                                        stack.workdir / "instance"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT callback_id, status FROM callbacks")).all()
            twice = conn.execute(text(
                "SELECT count(*) FROM (SELECT callback_pk FROM callback_attempts "
                "WHERE result = 'answered' GROUP BY callback_pk HAVING count(*) > 1) t")
            ).scalar_one()
    finally:
        engine.dispose()
    rank = {"completed": 3, "gave_up": 2, "cancelled": 1, "pending": 0}
    best: dict[str, str] = {}
    for callback_id, status in rows:
        if rank.get(status, 0) >= rank.get(best.get(callback_id, "pending"), 0):
            best[callback_id] = status
    done = list(best.values())
    return {"booked": len(best), "completed": done.count("completed"),
            "gave_up": done.count("gave_up"), "pending": done.count("pending"),
            "answered_twice": int(twice)}


def pending_in_redis(stack: Any) -> int:
    """Callbacks still waiting in line (kept: they will be called when agents are free)."""
    conn = redis_connect.connect(stack.redis_url)
    return sum(int(conn.hlen(keys.callbacks_by_number(q))) for q in ("support", "sales",
                                                                     "billing"))


def spooled(stack: Any) -> int:
    """Status and recording callbacks the web processes spooled (ivr/outcomes/spool.py), from their
    log."""
    log = stack.workdir / f"{stack.app.name}.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return text.count("deferred to the local spool")


@click.command("faults")
@click.option("--rate", default=2.0, show_default=True, help="New calls per second.")
@click.option("--duration", default=60.0, show_default=True)
@click.option("--speed", default=10.0, show_default=True)
@click.option("--redis-down", default=3.0, show_default=True, help="Seconds Redis stays down.")
@click.option("--seed", default=7, show_default=True)
def command(rate: float, duration: float, speed: float, redis_down: float, seed: int) -> None:
    """Kill a worker, a web process and Redis under load; print lost callers and callbacks."""
    if from_env().redis_url:
        raise click.ClickException("unset REDIS_URL: the fault run kills its own Redis, never "
                                   "a shared one")
    stack = Stack(speed=speed)
    faults = Faults(stack, duration, redis_down)
    try:
        stack.start()
        stack.staff(extra=10)
        result, legs = run_load(stack, rate, duration, 300, seed, drain=90.0, during=faults)
        time.sleep(3)
        counts = callback_counts(stack)
        waiting = pending_in_redis(stack)
        click.echo("faults injected:")
        for line in faults.log:
            click.echo(line)
        for line in report_lines(result, stack):
            click.echo(line)
        lost_callbacks = counts["booked"] - counts["completed"] - counts["gave_up"] - waiting
        click.echo(f"callers lost {result.lost}, stuck {len(result.unfinished)}, "
                   f"calls without a recorded outcome {len(result.without_outcome)}")
        click.echo(f"callbacks booked {counts['booked']}, completed {counts['completed']}, "
                   f"gave up after retries {counts['gave_up']}, still waiting in line "
                   f"{waiting}, lost {max(lost_callbacks, 0)}, placed twice "
                   f"{counts['answered_twice']}")
        click.echo(f"fallback answers while Redis was away: {stack.timings.fallbacks}")
        failovers = sum(len(leg.transcript.of_kind("failover")) for leg in legs)
        click.echo(f"webhooks that failed and went to the VoiceFallbackUrl: {failovers}; "
                   f"callbacks kept in the local spool while Redis was away: {spooled(stack)}")
        engine = stack.engine()
        presence: dict[str, int] = {}
        for agent in engine.agents.all():
            presence[agent.presence.value] = presence.get(agent.presence.value, 0) + 1
        click.echo(f"at the end: agents {presence}; in line "
                   f"{ {q['queue']: q['waiting'] for q in engine.snapshots()} }")
    finally:
        stack.close()
