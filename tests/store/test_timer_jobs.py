"""Timed jobs never run before their time (ivr/store/jobs.py `whole_second_after`): RQ
scores a scheduled job in whole seconds, cut down, so a wrap-up's end at 12:00:00.9 was
scheduled for 12:00:00 and found the wrap-up not over yet (and the agent waited for the
worker's next sweep)."""

from __future__ import annotations

from datetime import UTC, datetime

from rq import Queue
from rq.registry import ScheduledJobRegistry

from ivr.store.jobs import ROUTING_QUEUE, RqTrigger, whole_second_after


def test_a_timer_with_a_fraction_is_scheduled_at_the_next_whole_second(redis):
    rq = Queue(ROUTING_QUEUE, connection=redis)
    RqTrigger(rq).agent_free_at("alice", 2_000_000_000.25)
    RqTrigger(rq).agent_free_at("bob", 2_000_000_010.0)
    registry = ScheduledJobRegistry(queue=rq)
    scores = {job: int(score) for job, score in redis.zrange(registry.key, 0, -1,
                                                             withscores=True)}
    assert scores == {b"wrap-alice-2000000000250": 2_000_000_001,
                      b"wrap-bob-2000000010000": 2_000_000_010}


def test_whole_seconds_stay():
    at = datetime(2026, 12, 3, 8, 0, 0, tzinfo=UTC)
    assert whole_second_after(at) == at
    assert whole_second_after(at.replace(microsecond=1)) == at.replace(second=1)
