"""`ivr load`: many signed Twilio calls at once through the flows and queues, on 127.0.0.1.

Starts its own call centre (devkit/loadgen/stack.py: Redis, the app under gunicorn, a worker,
the Twilio stand-in whose hold loops run `--speed` times faster), staffs the agents, plays
callers at `--rate` per second for `--duration` seconds with at most `--concurrency` on the
line, drains, and prints throughput, p50/p95/p99 per webhook, errors and lost calls. Bounded
in count and time; nothing is left running.
"""

from __future__ import annotations

import click

from ivr.commands._devkit import require_devkit


@click.command("load")
@click.option("--rate", default=5.0, show_default=True, help="New calls per second.")
@click.option("--duration", default=60.0, show_default=True, help="Seconds of arrivals.")
@click.option("--concurrency", default=200, show_default=True, help="Most calls at once.")
@click.option("--speed", default=10.0, show_default=True, help="Simulated-time speed-up.")
@click.option("--workers", default=2, show_default=True, help="gunicorn workers.")
@click.option("--agents", default=20, show_default=True,
              help="Agents added to queues.yaml's for the run (every skill).")
@click.option("--drain", default=60.0, show_default=True,
              help="Seconds to let calls finish before the rest hang up.")
@click.option("--seed", default=None, type=int)
def command(rate: float, duration: float, concurrency: int, speed: float, workers: int,
            agents: int, drain: float, seed: int | None) -> None:
    """Load test: callers through flows and queues; latency per webhook, errors, lost calls."""
    import os

    require_devkit()
    # The load generator is developer tooling (devkit/), left out of a production image.
    from devkit.loadgen.run import report_lines, run_load
    from devkit.loadgen.stack import Stack

    if duration * rate > 20_000:
        raise click.ClickException("more than 20,000 calls: lower --rate or --duration")
    click.echo(f"ivr load: {rate:g} calls/s for {duration:g} s, at most {concurrency} at once, "
               f"clock x{speed:g}, {os.cpu_count()} cores")
    stack = Stack(speed=speed, workers=workers)
    try:
        stack.start()
        stack.staff(extra=agents)
        result, _ = run_load(stack, rate, duration, concurrency, seed, drain=drain)
        for line in report_lines(result, stack):
            click.echo(line)
    finally:
        stack.close()
    if result.lost:
        raise SystemExit(1)
