"""`ivr bench held`: thousands of callers on hold, each asking the waitUrl every 30 s.

Puts N callers in the support and sales queues (through the same hand-off the `/voice` webhook
uses, so each has its call state and queue entry), then plays their hold loops against the
app under gunicorn at the real rate (N / 30 requests per second, spread evenly, open loop: a
slow answer does not slow the schedule), for `--duration` seconds. Prints errors, p50/p95/p99
and the Redis memory each held caller costs. Targets (2 cores): 0 errors, p99 <= 100 ms.
For sizes past the machine's ceiling (issue 12: 50,000 callers), `--through` fills the line
quickly and `--max-lag` bounds the run; `late` counts requests skipped that far behind
schedule and `done/s` is the rate actually answered, i.e. the ceiling when requests are late.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import platform
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import click

from devkit.bench.webhook import (
    SESSION_KEY,
    TOKEN,
    Server,
    free_port,
    gunicorn_args,
    percentile,
    sign,
)
from ivr.app.services import build_services
from ivr.config.settings import from_env
from ivr.domain.flow.actions import CallEvent
from ivr.domain.queueing import score
from ivr.store import keys, redis_connect
from ivr.store.embedded_redis import EmbeddedRedis
from ivr.store.operator_flags import set_flag

HOLD_LOOP = 30.0


def fill_queues(redis_url: str, callers: int,
                through: int = 0) -> tuple[list[tuple[str, str]], float]:
    """Put `callers` callers in line the way real calls get there: through the call service
    (the shop flow: English, then 0 for a person), so each has its full call state, cached
    answers and queue entry. With `through` > 0 only that many go through the call service
    and the rest are copies of their Redis state (`clone_callers`): the call service costs
    ~15 ms of CPU a caller, too slow to fill 50,000 on 2 cores. Returns [(call_sid, queue)]
    and Redis bytes per caller."""
    conn = redis_connect.connect(redis_url)
    conn.flushdb()
    set_flag(conn, "always_open", "on")
    svc = build_services(from_env().with_overrides({"redis_url": redis_url}), conn)
    assert svc.queue_engine is not None
    before = int(conn.info("memory")["used_memory"])
    members = []
    real = min(callers, through) if through > 0 else callers
    for i in range(real):
        sid, now = f"CA{i:032d}", datetime.now(UTC)
        caller = {"From": f"+1415{i:07d}", "To": "+14155550100"}
        svc.calls.start(sid, caller, now)
        svc.calls.advance(sid, 1, CallEvent("input", now, digits="1"))
        svc.calls.advance(sid, 2, CallEvent("input", now, digits="0" if i % 2 else "4"))
        members.append((sid, "support" if i % 2 else "sales"))
    members += clone_callers(svc.queue_engine, members, callers)
    per_caller = (int(conn.info("memory")["used_memory"]) - before) / callers
    in_line = sum(int(str(q["waiting"])) for q in svc.queue_engine.snapshots())
    if in_line != callers:
        raise click.ClickException(f"only {in_line} of {callers} callers reached the queues")
    return members, per_caller


def clone_callers(engine: Any, templates: list[tuple[str, str]],
                  callers: int) -> list[tuple[str, str]]:
    """Callers len(templates)..callers-1 as copies of the templates' Redis state: the call
    hash and cached answers (CallSid and number rewritten, same TTL), and a queue entry put
    in line by the real join script. Pipelined in batches of 1,000."""
    conn, out = engine.conn, []
    state = {sid: [_strings(conn.hgetall(key(sid))) for key in
                   (keys.call, keys.call_responses, keys.queue_entry)] + [conn.pttl(keys.call(sid))]
             for sid, _ in templates}
    for lo in range(len(templates), callers, 1000):
        pipe = conn.pipeline(transaction=False)
        for i in range(lo, min(callers, lo + 1000)):
            t = i % len(templates)
            t_sid, queue = templates[t]
            sid = f"CA{i:032d}"
            *hashes, ttl = state[t_sid]
            call, answers, entry = (
                {k: v.replace(t_sid, sid).replace(f"+1415{t:07d}", f"+1415{i:07d}")
                 for k, v in h.items()} for h in hashes)
            _copy_call(pipe, sid, call, answers, int(ttl))
            _join_copy(engine, pipe, sid, queue, entry, callers)
            out.append((sid, queue))
        pipe.execute()
    return out


def _copy_call(pipe: Any, sid: str, call: dict[str, str], answers: dict[str, str],
               ttl_ms: int) -> None:
    pipe.hset(keys.call(sid), mapping=call)
    pipe.hset(keys.call_responses(sid), mapping=answers)
    for key in (keys.call(sid), keys.call_responses(sid)):
        pipe.pexpire(key, max(ttl_ms, 1000))


def _join_copy(engine: Any, pipe: Any, sid: str, queue: str, entry: dict[str, str],
               callers: int) -> None:
    """The entry through join.lua, joined now (so waits and positions are real)."""
    now_ms = int(time.time() * 1000)
    entry.update(score=str(score(int(entry["priority"]), now_ms / 1000)), vstart=str(now_ms),
                 joined_at=str(now_ms))
    engine.scripts.join(
        keys=[keys.queue_waiting(queue), keys.queue_joined(queue), keys.queue_entry(sid)],
        args=[sid, entry["score"], entry["joined_at"], callers + 1,
              *[x for kv in entry.items() for x in kv]], client=pipe)


def _strings(raw: Any) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def hold_loops(port: int, members: list[tuple[str, str]], start: float, duration: float,
               out: Any, max_lag: float = 0.0) -> None:
    """Each member asks at start + offset + k*30 s (offset spreads them over the loop). With
    `max_lag` > 0 a request already that many seconds late is not sent but counted as late
    (status -1): past the server's ceiling the run ends in bounded time."""
    schedule = sorted(((start + (i / len(members)) * HOLD_LOOP + k * HOLD_LOOP, sid, queue)
                       for i, (sid, queue) in enumerate(members)
                       for k in range(int(duration // HOLD_LOOP) + 1)))
    schedule = [s for s in schedule if s[0] < start + duration]
    lock = threading.Lock()
    samples: list[tuple[float, int]] = []
    cursor = iter(schedule)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        base = f"http://127.0.0.1:{port}"
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                break
            at, sid, queue = item
            time.sleep(max(0.0, at - time.monotonic()))
            if max_lag > 0 and time.monotonic() - at > max_lag:
                with lock:
                    samples.append((0.0, -1))
                continue
            path = f"/voice/queue/wait?{urlencode({'queue': queue})}"
            params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "QueuePosition": "1",
                      "QueueTime": "30", "CallStatus": "in-progress"}
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=urlencode(params), headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": sign(base + path, params)})
                resp = conn.getresponse()
                body = resp.read()
                status = resp.status if b"<Response" in body else 599
            except (OSError, http.client.HTTPException):
                status = 0
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                samples.append((time.perf_counter() - started, status))

    threads = [threading.Thread(target=worker) for _ in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(samples)


def roomy_queues(workdir: Any, callers: str) -> Any:
    """queues.yaml with room for every held caller (the demo's caps are 1,000 and 500)."""
    import yaml


    setup = yaml.safe_load(from_env().queues_file.read_text())
    for spec in setup["queues"].values():
        spec["max_size"] = max(int(x) for x in callers.split(","))
    path = workdir / "queues.yaml"
    path.write_text(yaml.safe_dump(setup))
    return path


@click.command("held")
@click.option("--callers", default="5000,10000", show_default=True, help="Comma-separated sizes.")
@click.option("--duration", default=60.0, show_default=True, help="Seconds of hold loops each.")
@click.option("--workers", default=2, show_default=True)
@click.option("--threads", default=4, show_default=True)
@click.option("--max-lag", default=0.0, show_default=True,
              help="Skip (and count as late errors) requests this many seconds behind "
                   "schedule, so a run past the ceiling ends in bounded time (0 = never).")
@click.option("--through", default=0, show_default=True,
              help="Only this many callers go through the call service, the rest are copies "
                   "of their Redis state (0 = all; e.g. 200 for 50,000 callers).")
def command(callers: str, duration: float, workers: int, threads: int, through: int,
            max_lag: float) -> None:
    """Callers on hold: waitUrl every 30 s for 5,000 and 10,000 callers; errors, p99, memory."""
    click.echo(f"machine: {os.cpu_count()} cores ({platform.machine()}); gunicorn {workers} x "
               f"{threads}; hold loop every {HOLD_LOOP:g} s, {duration:g} s per size")
    app = Server("app", free_port())
    redis_srv = EmbeddedRedis(app.workdir / "redis").start()
    env = dict(os.environ)
    queues_file = str(roomy_queues(app.workdir, callers))
    os.environ["IVR_QUEUES_FILE"] = queues_file  # for fill_queues' from_env, in this process
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                "SECRET_KEY": SESSION_KEY,
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{app.port}", "REDIS_URL": redis_srv.url,
                "IVR_INSTANCE_DIR": str(app.workdir / "instance"),
                "IVR_PROMPTS_AUDIO_DIR": str(app.workdir / "no-audio")})
    click.echo(f"\n{'callers':>8}{'req/s':>8}{'requests':>10}{'errors':>8}{'p50 ms':>8}"
               f"{'p95 ms':>8}{'p99 ms':>8}{'Redis bytes/caller':>20}{'late':>8}{'done/s':>8}")
    env["IVR_QUEUES_FILE"] = queues_file
    try:
        for n in (int(x) for x in callers.split(",")):
            app.stop()
            members, per_caller = fill_queues(redis_srv.url, n, through)  # flushes; app restarts
            app.start(gunicorn_args("ivr:create_app()", app.port, workers, threads), env)
            out: Any = mp.Queue()
            half = len(members) // 2
            start = time.monotonic() + 1
            procs = [mp.Process(target=hold_loops,
                                args=(app.port, part, start, duration, out, max_lag))
                     for part in (members[:half], members[half:])]
            for p in procs:
                p.start()
            samples = [s for _ in procs for s in out.get()]
            elapsed = time.monotonic() - start
            for p in procs:
                p.join()
            ok = [s[0] * 1000 for s in samples if s[1] == 200]
            late = sum(1 for s in samples if s[1] == -1)
            click.echo(f"{n:>8}{len(samples) / duration:>8.0f}{len(samples):>10}"
                       f"{len(samples) - len(ok):>8}{percentile(ok, .5):>8.1f}"
                       f"{percentile(ok, .95):>8.1f}{percentile(ok, .99):>8.1f}"
                       f"{per_caller:>20,.0f}{late:>8}{len(ok) / elapsed:>8.0f}")
    finally:
        app.stop()
        redis_srv.stop()
