"""/metrics reports RQ jobs that failed for good, per queue, from RQ's failed job registry (the
jobs fail in worker processes, which serve no /metrics of their own)."""

from __future__ import annotations

import re

from rq import Queue, SimpleWorker


def failures(client, queue: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(rf'^ivr_job_failures\{{queue="{queue}"\}} ([0-9.]+)$', text, re.M)
    assert found, text[-2000:]
    return float(found.group(1))


def test_failed_jobs_are_counted_per_queue(client, redis):
    assert failures(client, "ivr-routing") == 0
    queue = Queue("ivr-routing", connection=redis)
    queue.enqueue("builtins.int", "not a number")  # fails: ValueError
    queue.enqueue("builtins.int", "42")  # succeeds
    SimpleWorker([queue], connection=redis).work(burst=True, logging_level="WARNING")
    assert failures(client, "ivr-routing") == 1
    assert failures(client, "ivr-transcription") == 0
