"""`ivr worker`: RQ workers for the queue jobs (routing, bridging, callbacks, wrap-up timers,
follow-up, voicemail transcription), each with RQ's scheduler so `enqueue_in` timers fire,
and the outcome writer (events from Redis into the database). Uses REDIS_URL, or the
embedded Redis under the instance folder when unset."""

from __future__ import annotations

import multiprocessing

import click


def _redis_url() -> str:
    from ivr.config.settings import from_env
    from ivr.store.embedded_redis import EmbeddedRedis

    config = from_env()
    if config.redis_url:
        return config.redis_url
    return EmbeddedRedis(config.instance_dir / "redis").start().url


@click.command("worker")
@click.option("--queue", "queues", multiple=True,
              help="RQ queue(s) to work (default: all of the product's queues).")
@click.option("--processes", default=1, show_default=True, help="Worker processes to run.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--no-outcomes", is_flag=True,
              help="Do not run the outcome writer in this worker (run `ivr db writer`).")
def command(queues: tuple[str, ...], processes: int, burst: bool, no_outcomes: bool) -> None:
    """Run queue workers (routing, callbacks, follow-up, transcription) with RQ's scheduler."""
    from ivr.config.startup import require_secret_key

    # every variable parses, and the same key as the web app: refuse in one line otherwise
    config = require_secret_key()
    from ivr.config.log_format import configure_from_env
    from queue_worker.worker import WORKER_QUEUES, run_worker

    configure_from_env(config)
    url = _redis_url()
    names = list(queues) or list(WORKER_QUEUES)
    click.echo(f"ivr worker: {processes} process(es) on {', '.join(names)}")
    outcomes = not no_outcomes and not burst
    if processes <= 1:
        run_worker(url, names, burst=burst, write_outcomes=outcomes)
        return
    procs = [multiprocessing.Process(target=run_worker, args=(url, names), kwargs={
        "burst": burst, "write_outcomes": outcomes and i == 0}) for i in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
