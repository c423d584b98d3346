"""The estimator's per-queue memory in Redis: updates persist and feed the announcement."""

from __future__ import annotations

from ivr.domain import holdtime
from ivr.store.hold_stats import HoldStatsStore

NOW = 1_800_000_000.0


def test_learned_talk_times_persist_and_change_the_estimate(redis):
    store = HoldStatsStore(redis, talk_time=180.0)
    before = store.estimate("support", ahead=4, agents=2, busy=2, now=NOW).seconds
    for i in range(50):
        store.call_ended("support", 60.0, NOW + i)
    again = HoldStatsStore(redis, talk_time=180.0)  # another process, same Redis
    stats, _ = again.get("support")
    assert stats.completed == 50
    assert abs(stats.handle_mean - 60.0) < 15.0
    after = again.estimate("support", ahead=4, agents=2, busy=2, now=NOW + 100).seconds
    assert after < before / 2  # calls are shorter than the prior: the wait announced shrinks
    assert store.get("sales")[0].completed == 0  # queues learn separately


def test_abandons_teach_patience_and_staffing_changes_widen_the_range(redis):
    store = HoldStatsStore(redis)
    for i in range(20):
        store.abandoned("support", 30.0, NOW + i)
        store.answered("support", 30.0, NOW + i)
        store.call_ended("support", 120.0 + i % 3, NOW + i)
    stats, _ = store.get("support")
    assert holdtime.abandon_rate(stats) > 0
    store.estimate("support", ahead=2, agents=3, busy=3, now=NOW)
    settled = store.estimate("support", ahead=2, agents=3, busy=3, now=NOW + 5000)
    changed = store.estimate("support", ahead=2, agents=1, busy=1, now=NOW + 5001)
    assert changed.uncertainty > settled.uncertainty
    assert store.get("support")[1] == 1



def test_a_burst_of_updates_from_many_threads_is_all_learned(redis):
    """Callers hanging up together (the end of an `ivr bench abuse` run) raced for the
    queue's statistics; five immediate retries gave up and the abandoning callers' webhooks
    went to the fallback route. Each thread here is a web thread with its own connection."""
    from concurrent.futures import ThreadPoolExecutor

    store = HoldStatsStore(redis)

    def many(_: int) -> None:
        for i in range(15):
            store.call_ended("support", 90.0, NOW + i)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(many, range(16)))
    assert store.get("support")[0].completed == 16 * 15


def test_ranges_told_to_callers_learn_from_their_answered_waits(redis):
    """Every caller is told a range; once answered, where their wait fell moves the queue's
    ranges: callers who always wait far longer than told make the next range wider."""
    store = HoldStatsStore(redis, talk_time=120.0)
    told, (low, high) = store.forecast("support", ahead=3, agents=2, busy=2, now=NOW)
    assert 0 < low < told.seconds < high
    for _ in range(60):
        store.range_outcome("support", told, told.seconds * 3)  # all far past the high end
    stats, _ = store.get("support")
    assert stats.ranges_seen == 60
    again, (low2, high2) = store.forecast("support", ahead=3, agents=2, busy=2, now=NOW + 60)
    assert again.seconds == told.seconds
    assert high2 > told.seconds * 2 > high
    assert store.get("sales")[0].ranges_seen == 0
