"""`run_worker(redis_url, queues)`: an RQ worker for the queue jobs, with RQ's scheduler.

The connection is made here, once, and passed explicitly (RQ 2+ requires `connection=`); the
job context (QueueService, CallControl) is built here too, so jobs never connect on their own.
`with_scheduler=True` moves `enqueue_in`/`enqueue_at` jobs (routing timers, wrap-up ends,
callback retries) into the queue when due.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from rq import Worker

from queue_worker.context import ROUTING_QUEUE, build_context, install_context


def run_worker(redis_url: str, queues: Sequence[str] = (ROUTING_QUEUE,), *,
               burst: bool = False, name: str | None = None) -> bool:
    """Work the given RQ queues until stopped (or until empty with `burst`)."""
    conn = redis.Redis.from_url(redis_url)
    install_context(conn, build_context(conn))
    worker = Worker(list(queues), connection=conn, name=name)
    return bool(worker.work(with_scheduler=True, burst=burst))
