"""Held callers' estimates from one read of the queue per second, equal to the direct ones."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ivr.domain import holdtime
from ivr.store.hold_forecast import HoldForecasts
from ivr.store.hold_stats import HoldStatsStore
from tests.store.queue_fixtures import NOW, go_available, make_service


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def counting(svc):
    """Count the queue reads (snapshots) the forecasts make."""
    reads = []
    real = svc.snapshot

    def snapshot(queue, now, member=None):
        reads.append(queue)
        return real(queue, now, member)

    svc.snapshot = snapshot
    return reads


def learned(redis) -> HoldStatsStore:
    stats = HoldStatsStore(redis)
    for i in range(30):
        stats.call_ended("support", 100.0 + 7 * (i % 5), NOW + i)
        stats.abandoned("support", 40.0, NOW + i)
        stats.answered("support", 60.0, NOW + i)
    return stats


def test_every_place_gets_the_direct_forecast_from_one_read(redis):
    svc = make_service(redis, head=20)
    svc.queues["support"] = replace(svc.queues["support"], max_size=500)
    go_available(svc, "alice", "dan")
    stats = learned(redis)
    for i in range(302):
        svc.join(f"CA{i}", "support", NOW + i)
    assert len(svc.route("support", NOW + 400).reservations) == 2  # both agents ringing
    reads = counting(svc)
    clock = Clock()
    shared = HoldForecasts(svc, stats, ttl=1.0, clock=clock)
    direct = HoldStatsStore(redis)
    for position in [1, 2, 3, 299, 150, 300, 7]:
        told = shared.forecast("support", position, NOW + 500)
        assert told == direct.forecast("support", position - 1, 2, 2, NOW + 500), position
    joining = shared.forecast("support", None, NOW + 500)  # behind all 300
    assert joining == direct.forecast("support", 300, 2, 2, NOW + 500)
    assert reads == ["support"]  # one read for all the callers asking within the second
    clock.t += 1.0
    shared.forecast("support", 5, NOW + 501)
    assert reads == ["support", "support"]


def test_staffing_seen_after_the_ttl_and_every_time_with_ttl_zero(redis):
    svc = make_service(redis)
    stats = HoldStatsStore(redis)
    for i in range(4):
        svc.join(f"CA{i}", "support", NOW + i)
    clock = Clock()
    shared = HoldForecasts(svc, stats, ttl=1.0, clock=clock)
    always = HoldForecasts(svc, stats, ttl=0.0, clock=clock)
    before = shared.forecast("support", 4, NOW + 10)[0]
    go_available(svc, "alice", "dan", at=NOW + 11)
    assert shared.forecast("support", 4, NOW + 12)[0] == before  # within the second
    now_staffed = always.forecast("support", 4, NOW + 12)[0]
    assert now_staffed.seconds < before.seconds  # two agents now: a shorter wait
    clock.t += 1.5
    assert shared.forecast("support", 4, NOW + 13)[0].seconds == now_staffed.seconds


def test_web_threads_share_the_table(redis):
    svc = make_service(redis)
    stats = learned(redis)
    go_available(svc, "alice")
    svc.join("CA0", "support", NOW - 10)
    assert len(svc.route("support", NOW - 5).reservations) == 1  # alice ringing: 1 of 1 busy
    shared = HoldForecasts(svc, stats, ttl=60.0)
    held = holdtime.QueueState
    rng = random.Random(5)
    places = [rng.randrange(1, 4000) for _ in range(400)]

    def ask(position: int):
        return shared.forecast("support", position, NOW)[0]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, places))
    got, _ = stats.get("support")
    for position, answer in zip(places, answers, strict=True):
        assert answer == holdtime.estimate_wait_range(held(position - 1, 1, 1), got, NOW)


def test_the_ttl_is_a_bounded_setting():
    import pytest

    from ivr.app.services import forecast_ttl
    from ivr.config.settings import from_env
    from ivr.domain.errors import ConfigError

    assert forecast_ttl(from_env({})) == 1.0
    assert forecast_ttl(from_env({"IVR_FORECAST_TTL": "0"})) == 0.0
    assert forecast_ttl(from_env({"IVR_FORECAST_TTL": "2.5"})) == 2.5
    for bad in ("-1", "soon", "nan", "600"):
        with pytest.raises(ConfigError, match="IVR_FORECAST_TTL"):
            forecast_ttl(from_env({"IVR_FORECAST_TTL": bad}))
