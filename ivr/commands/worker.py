"""`ivr worker`: RQ workers for the queue jobs (routing, bridging, callbacks, wrap-up timers),
each with RQ's scheduler so `enqueue_in` timers fire. Uses REDIS_URL, or the embedded Redis
under the instance folder when unset."""

from __future__ import annotations

import multiprocessing

import click


def _redis_url() -> str:
    from ivr.config import from_env
    from ivr.store.embedded_redis import EmbeddedRedis

    config = from_env()
    if config.redis_url:
        return config.redis_url
    return EmbeddedRedis(config.instance_dir / "redis").start().url


@click.command("worker")
@click.option("--queue", "queues", multiple=True,
              help="RQ queue(s) to work (default: ivr-routing).")
@click.option("--processes", default=1, show_default=True, help="Worker processes to run.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def command(queues: tuple[str, ...], processes: int, burst: bool) -> None:
    """Run queue workers (routing, bridging, callbacks) with RQ's scheduler."""
    from queue_worker.context import ROUTING_QUEUE
    from queue_worker.worker import run_worker

    url = _redis_url()
    names = list(queues) or [ROUTING_QUEUE]
    click.echo(f"ivr worker: {processes} process(es) on {', '.join(names)}")
    if processes <= 1:
        run_worker(url, names, burst=burst)
        return
    procs = [multiprocessing.Process(target=run_worker, args=(url, names),
                                     kwargs={"burst": burst}) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
