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


def test_events_give_the_statistics_applying_them_in_order_gives(redis):
    """Kept as a list of events and folded now and then: every read equals the domain's own
    updates applied one after another, before and after each fold."""
    import random

    from ivr.domain import wait_range
    from ivr.domain.holdtime import WaitEstimate
    from ivr.store.hold_stats import FOLD_AT

    rng = random.Random(4)
    store = HoldStatsStore(redis, talk_time=150.0)
    expected = holdtime.new_stats(150.0)
    for i in range(5 * FOLD_AT + 3):
        kind, value = rng.choice(["answered", "abandoned", "ended", "range"]), rng.random() * 300
        if kind == "range":
            told = WaitEstimate(rng.random() * 200 + 1, 0.0, rng.random())
            store.range_outcome("support", told, value)
            expected = wait_range.record_range_outcome(expected, told, value)
        else:
            getattr(store, {"ended": "call_ended"}.get(kind, kind))("support", value, NOW + i)
            record = {"answered": holdtime.record_answered, "abandoned": holdtime.record_abandoned,
                      "ended": holdtime.record_call_ended}[kind]
            expected = record(expected, value, NOW + i)
        assert store.get("support")[0] == expected, i
    assert redis.llen("ivr:{queues}:hold-events:support") < FOLD_AT  # folded as it grew
    assert store.get("sales")[0] == holdtime.new_stats(150.0)


def test_a_sample_is_never_dropped_however_busy_the_queue(redis):
    """Other processes write the queue's statistics key all the time (staffing seen by every
    web process, other calls' samples). Under WATCH every such write made the update start
    again, and after 30 lost races the sample was dropped; appending cannot lose a race."""
    import threading

    store = HoldStatsStore(redis)
    stop = threading.Event()

    def other_processes() -> None:
        conn = redis.__class__(connection_pool=redis.connection_pool)
        n = 0
        while not stop.is_set():
            n += 1
            conn.hset("ivr:{queues}:hold-stats:support", "agents", n % 7)

    busy = threading.Thread(target=other_processes)
    busy.start()
    try:
        for i in range(10):
            store.call_ended("support", 90.0, NOW + i)
            store.answered("support", 20.0, NOW + i)
    finally:
        stop.set()
        busy.join()
    stats, _ = store.get("support")
    assert (stats.completed, round(stats.waits_seen, 6)) == (10, round(sum(
        (1 - 1 / holdtime.WAIT_MEMORY) ** k for k in range(10)), 6))
