"""A routing pass is never skipped because of a job record that outlived its queue entry
(Redis restarted between the two writes, or a worker died holding the job)."""

from __future__ import annotations

from rq import Queue

from ivr.store.jobs import enqueue_once


def _noop() -> None:
    return None


def test_a_queued_job_is_not_enqueued_twice(redis):
    rq = Queue("ivr-test", connection=redis)
    assert enqueue_once(rq, "route-support-joined", _noop) is not None
    assert enqueue_once(rq, "route-support-joined", _noop) is None
    assert rq.count == 1


def test_a_stale_record_does_not_block_the_next_pass(redis):
    rq = Queue("ivr-test", connection=redis)
    job = enqueue_once(rq, "route-support-joined", _noop)
    assert job is not None
    redis.delete(rq.key)  # the queue lost it; the job record still says "queued"
    assert rq.count == 0
    assert enqueue_once(rq, "route-support-joined", _noop) is not None
    assert rq.count == 1
