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

import functools
import http.client
import multiprocessing as mp
import os
import platform
import random
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

import click

from devkit.bench import webhook_wrk

# BARE_APP ... gunicorn_args are imported from here by other benches, the load generator and
# tests (they lived in this module before devkit/bench/servers.py).
from devkit.bench.servers import (  # noqa: F401
    BARE_APP,
    SESSION_KEY,
    SWITCHES,
    TOKEN,
    BenchServers,
    Server,
    cpu_seconds,
    free_port,
    gunicorn_args,
    started,
)

STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}), ("/voice/next?seq=2", {"Digits": "3"}),
    ("/voice/next?seq=3", {"Digits": "1"}),
    ("/voice/status", {"CallStatus": "completed", "CallDuration": "42"}))


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
@click.option("--switches", is_flag=True,
              help="Also serve the app with each of its shortcuts off in turn (devkit/bench/"
                   "servers.py SWITCHES), and print what each buys, side by side.")
@click.option("--wrk", "use_wrk", is_flag=True,
              help="One endpoint under wrk (Debian's C load client) instead of the mixed calls.")
@click.option("--endpoint", type=click.Choice(sorted(webhook_wrk.ENDPOINTS)), default="voice",
              show_default=True, help="With --wrk: the webhook driven (each request a new call).")
@click.option("--repeat", default=3, show_default=True, help="With --wrk: measured runs.")
@click.option("--connections", default=50, show_default=True, help="With --wrk: connections.")
@click.option("--slice", "slice_s", default=2.0, show_default=True,
              help="Seconds each server runs before the next takes its turn.")
@click.option("--pool", default=0, help="With --wrk: signed bodies per run (0: 8,000 per "
              "measured second, more than the bare endpoint answers here).")
@click.option("--also-app", "also_apps", multiple=True, type=click.Path(exists=True),
              help="Also serve the app from this checkout (a before/after in the same run).")
def command(concurrency: int, duration: float, warmup: float, clients: int, workers: int,
            threads: int, worker_class: str, pace: float, switches: bool, use_wrk: bool,
            endpoint: str, repeat: int, connections: int, pool: int,
            also_apps: tuple[str, ...], slice_s: float) -> None:
    """Webhook throughput and latency: the app vs a bare Flask endpoint, same server."""
    cpu = platform.processor() or platform.machine()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    click.echo(f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
               f"load average {load}; gunicorn {workers} {worker_class} workers x {threads} "
               f"threads; {duration:g} s measured per server")
    variants = dict(SWITCHES if switches else {"app": {}})
    variants.update({f"app from {path}": {"PYTHONPATH": path} for path in also_apps})
    with started(variants, workers, threads, worker_class) as stack:
        if use_wrk:
            wrk_load = webhook_wrk.WrkLoad(threads=clients, connections=connections,
                                           duration=duration, pool=pool or int(8000 * duration))
            servers = {n: webhook_wrk.Target(s.port, stack.pids(n))
                       for n, s in stack.servers.items()}
            runs = [webhook_wrk.measure_pair(wrk_load, stack.servers["bare"].workdir, endpoint,
                                             servers, sign, warmup, slice_s)
                    for _ in range(repeat)]
            webhook_wrk.report_runs(runs, endpoint)
            return
        mixed_calls(stack, concurrency, clients, duration, warmup, pace, slice_s)


def mixed_calls(stack: BenchServers, concurrency: int, clients: int, duration: float,
                warmup: float, pace: float, slice_s: float) -> None:
    """The mixed run: every server under `concurrency` calls back to back, taking turns in
    slices of `slice_s` seconds (the order rotating each round) until each had `duration`,
    so the machine's changing load weighs on all alike; then the app at a caller's pace.
    Rates, CPU per request and the ratios to bare."""
    click.echo(f"{concurrency} concurrent calls of {len(STEPS)} webhooks, {clients} client "
               f"processes, {slice_s:g} s slices")
    names = list(stack.servers)
    rounds = max(1, round(duration / slice_s))
    samples: dict[str, list[tuple[str, float, int]]] = {name: [] for name in names}
    cpu_ms: dict[str, float] = dict.fromkeys(names, 0.0)  # summed over requests
    for name in names:  # warmed up once, unmeasured; each slice then warms its connections
        drive(stack.servers[name].port, concurrency, clients, 0.1, warmup)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            got, cpu = measured(stack.pids(name), functools.partial(
                drive, stack.servers[name].port, concurrency, clients, slice_s,
                min(0.5, warmup)))
            samples[name] += got
            cpu_ms[name] += cpu * len(got)
    figures: dict[str, tuple[float, float]] = {}
    for name in names:
        rate = report(name, samples[name], rounds * slice_s)
        figures[name] = (rate, cpu_ms[name] / max(1, len(samples[name])))
        click.echo(f"  server CPU per request: {figures[name][1]:.2f} ms")
    paced = drive(stack.servers["app"].port, concurrency, clients, duration, warmup, pace=pace)
    report(f"the app, {concurrency} calls at a caller's pace (~{pace:g} s between "
           "webhooks)", paced, duration)
    base_rate, bare_cpu = figures["bare"]
    click.echo(f"\n  {'server':<24}{'requests/s':>12}{'/ bare':>8}{'CPU ms/request':>16}")
    for name, (rate, cpu) in figures.items():
        click.echo(f"  {name:<24}{rate:>12,.0f}{rate / base_rate:>8.0%}{cpu:>16.2f}")
    p99 = percentile([s[1] * 1000 for s in paced if s[2] == 200], .99)
    click.echo(f"\nserver CPU per request, bare / app: {bare_cpu / figures['app'][1]:.0%} (what "
               "the throughput ratio tends to when the servers have the cores to themselves)")
    click.echo(f"saturated throughput, app / bare: {figures['app'][0] / base_rate:.0%} (target "
               f">= 50%); app p99 at a caller's pace with {concurrency} calls: {p99:.1f} ms "
               "(target <= 50 ms)")
