"""`ivr bench soak`'s judgement (devkit/bench/soak.py) and its look at a stack
(devkit/loadgen/probe.py): a run fails on a fallback, a 5xx, a client name holding more Redis
connections than its pool, or a process growing past a bound; the probe counts a process's
named Redis connections, its threads and memory."""

from __future__ import annotations

import os
import random
from types import SimpleNamespace

import redis as redis_lib

from devkit.bench.soak import Bounds, Traffic, problems
from devkit.loadgen.probe import Look, Probe, ProcessLook
from devkit.loadgen.timing import Timings
from devkit.loadgen.wallboard_watch import WallboardWatch

BOUNDS = Bounds(redis_per_process=10, rss_growth_mb=50)


def stack_with(*samples: tuple[str, float, int], fallbacks: int = 0) -> SimpleNamespace:
    timings = Timings()
    for kind, seconds, status in samples:
        timings.add(kind, seconds, status, False)
    timings.fallbacks = fallbacks
    return SimpleNamespace(timings=timings)


def look(rss: float = 90.0, threads: int = 17, db: int = 2, **names: int) -> Look:
    return Look(0.0, sum(names.values()), {k.replace("_", "-"): v for k, v in names.items()},
                [ProcessLook("web", 42, rss, threads, db, sum(names.values())),
                 ProcessLook("soak", 7, rss * 3, threads * 5, 0, 0)])


def judge(first: Look, last: Look, stack: SimpleNamespace | None = None,
          watch_events: int = 5) -> list[str]:
    traffic = Traffic(stack, 1.0, 10, random.Random(1))
    watch = WallboardWatch("http://127.0.0.1:1", "s", "p", events=watch_events)
    return problems(first, last, traffic, [watch],
                    stack or stack_with(("/voice", 0.01, 200)), BOUNDS)


def test_a_quiet_run_passes_and_the_callers_own_process_is_not_judged():
    assert judge(look(ivr_web_42=4), look(ivr_web_42=10)) == []
    grown = look(ivr_web_42=4)
    grown.processes[1] = ProcessLook("soak", 7, 900.0, 400, 0, 0)  # the stand-in's legs
    assert judge(look(), grown) == []


def test_fallbacks_errors_and_silence_fail_the_run():
    stack = stack_with(("/voice", 0.01, 200), ("/voice/next", 0.01, 502),
                       ("/voice/next", 0.01, 0), fallbacks=2)
    found = judge(look(), look(), stack, watch_events=0)
    assert "2 webhooks: fallback" in found
    assert "1 webhooks: 5xx" in found
    assert "1 webhooks: no answer" in found
    assert "wallboard: no event received" in found


def test_more_connections_than_the_pool_or_growth_past_a_bound_fails_the_run():
    found = judge(look(ivr_web_42=4), look(rss=150.0, threads=40, db=9, ivr_web_42=11,
                                          unnamed_client=50))
    assert found == ["ivr-web-42: 11 Redis connections (pool limit 10)",
                     "web 42: +60.0 MB of memory since the warm-up (bound 50)",
                     "web 42: +7.0 database connections since the warm-up (bound 5)",
                     "web 42: +23.0 threads since the warm-up (bound 10)"]


def test_the_probe_counts_a_processes_named_connections_threads_and_memory(redis_url: str):
    name = f"ivr-test-{os.getpid()}"
    mine = redis_lib.Redis.from_url(redis_url, client_name=name)
    held = [mine.connection_pool.get_connection() for _ in range(3)]
    probe = Probe(redis_lib.Redis.from_url(redis_url), {"soak": os.getpid()})
    seen = probe.look(0.0)
    assert seen.by_name[name] == 3
    me = seen.of("soak")[0]
    ours = sum(n for name_, n in seen.by_name.items() if name_.endswith(f"-{os.getpid()}"))
    assert me.pid == os.getpid()
    assert me.redis == ours >= 3  # (other tests' apps in this process count too)
    assert me.threads >= 1
    assert me.rss_mb > 10
    for conn in held:
        mine.connection_pool.release(conn)
