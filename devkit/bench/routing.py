"""`ivr bench routing`: cost of the routing operations at 1k, 10k and 100k queued callers.

Runs on the real Redis (REDIS_URL, else the embedded server) in a database it claims empty
(1..15) and flushes afterwards. For each size it fills one queue (untimed, pipelined), then
times `--samples` of each operation: join (a new caller), position (a random caller), best
match (a routing pass reserving the longest-idle agent for the head of line; the
reservation is undone untimed) and leave (a random caller hangs up). Prints mean/p50/p99 in
microseconds and the core count. Every operation is O(log n) sorted-set work plus a constant
number of round trips, so the cost should barely grow with n; the target is p99 <= 2 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import click
import redis

from ivr.config.settings import from_env
from ivr.domain.queueing import Agent, Presence, QueueConfig, score
from ivr.store import keys, redis_connect
from ivr.store.embedded_redis import EmbeddedRedis
from ivr.store.redis_queue import QueueService

QUEUE = "bench"
BENCH_MARKER = "ivr-bench:claimed"


def _claim_db(base_url: str) -> redis.Redis:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base_url)
    for db in range(15, 0, -1):
        url = (f"unix://{parts.path}?db={db}" if parts.scheme == "unix"
               else urlunsplit(parts._replace(path=f"/{db}")))
        conn = redis_connect.connect(url)
        if conn.set(BENCH_MARKER, "1", nx=True, ex=3600) and conn.dbsize() == 1:
            return conn
    raise click.ClickException("no empty Redis database among 1..15 for the benchmark")


def _fill(svc: QueueService, n: int, start: float) -> None:
    batch = 2000
    for lo in range(0, n, batch):
        pipe = svc.conn.pipeline(transaction=False)
        for i in range(lo, min(n, lo + batch)):
            sid, now = f"CA{i:09d}", start + i * 0.001
            fields: dict[str, Any] = {
                "member": sid, "queue": QUEUE, "kind": "call", "skills": "support",
                      "priority": i % 3, "score": score(i % 3, now), "vstart": int(now * 1000),
                      "joined_at": int(now * 1000), "state": "waiting", "caller": "{}"}
            svc.scripts.join(keys=[keys.queue_waiting(QUEUE), keys.queue_joined(QUEUE),
                                   keys.queue_entry(sid)],
                             args=[sid, fields["score"], fields["joined_at"], n + 10**6,
                                   *[x for kv in fields.items() for x in kv]], client=pipe)
        pipe.execute()


def _time(op: Callable[[int], object], samples: int, setup: Callable[[int], object] | None = None
          ) -> list[float]:
    out = []
    for i in range(samples):
        if setup:
            setup(i)
        t0 = time.perf_counter_ns()
        op(i)
        out.append((time.perf_counter_ns() - t0) / 1000.0)
    return out


def _measure(svc: QueueService, n: int, samples: int, start: float) -> dict[str, list[float]]:
    rng = random.Random(n)
    now = start + n * 0.001 + 10
    ids = [f"CA{rng.randrange(n):09d}" for _ in range(samples)]
    svc.agents.upsert(Agent("bench-agent", "bench", "client:bench", {"support": 5}), now)
    # a softphone agent is offered calls only with a registered, fresh device (routing rule 0)
    svc.agents.device("bench-agent", "registered", now + 100)
    results = {
        "join": _time(lambda i: svc.join(f"NEW{i:07d}", QUEUE, now + i), samples),
        "position": _time(lambda i: svc.position(ids[i]), samples),
    }
    tokens: list[str] = []

    def ready(i: int) -> None:
        if tokens:
            svc.release(tokens.pop(), now)
        svc.agents.set_presence("bench-agent", Presence.AVAILABLE, now)

    def match(i: int) -> None:
        tokens.extend(r.token for r in svc.route(QUEUE, now + 100).reservations)

    results["best match"] = _time(match, samples, ready)
    leave_ids = rng.sample(range(n), samples)
    results["leave"] = _time(lambda i: svc.leave(f"CA{leave_ids[i]:09d}", "hangup", now), samples)
    return results


@click.command("routing")
@click.option("--sizes", default="1000,10000,100000", show_default=True)
@click.option("--samples", default=1000, show_default=True, help="Timed calls per operation.")
def command(sizes: str, samples: int) -> None:
    """Time join / best match / position / leave at several queue sizes."""
    config = from_env()
    embedded = None
    if config.redis_url:
        base_url = config.redis_url
    else:
        embedded = EmbeddedRedis(config.instance_dir / "redis").start()
        base_url = embedded.url
    conn = _claim_db(base_url)
    cfg = QueueConfig(QUEUE, "support", max_size=10**7)
    click.echo(f"ivr bench routing: {os.cpu_count()} cores, {samples} samples/op, "
               f"redis {conn.info('server')['redis_version']} at {base_url}")
    click.echo(f"{'callers':>8} {'operation':<11} {'mean µs':>9} {'p50 µs':>9} {'p99 µs':>9}")
    try:
        for n in (int(s) for s in sizes.split(",")):
            conn.flushdb()
            conn.set(BENCH_MARKER, "1", ex=3600)
            svc = QueueService(conn, {QUEUE: cfg}, lease_seconds=3600)
            start = 1_700_000_000.0
            _fill(svc, n, start)
            for op, values in _measure(svc, n, samples, start).items():
                qs = statistics.quantiles(values, n=100)
                click.echo(f"{n:>8} {op:<11} {statistics.fmean(values):>9.1f} "
                           f"{qs[49]:>9.1f} {qs[98]:>9.1f}")
    finally:
        conn.flushdb()
        if embedded is not None:
            embedded.stop()
