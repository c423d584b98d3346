"""The hold-time estimator: queueing behaviour, robustness and learning from events."""

from __future__ import annotations

import json
import math

import pytest

from ivr.domain import holdtime
from ivr.domain.holdtime import HoldStats, QueueState, estimate_wait
from ivr.domain.talktime import first_departure_mean

NOW = 10_000.0


def stats(aht: float = 300.0, calls: int = 0, handle: float | None = None,
          answered: int = 0, abandoned: int = 0, wait: float = 60.0) -> HoldStats:
    st = holdtime.new_stats(aht)
    for i in range(calls):
        st = holdtime.record_call_ended(st, handle if handle is not None else aht, NOW + i)
    for _ in range(answered):
        st = holdtime.record_answered(st, wait, NOW)
    for _ in range(abandoned):
        st = holdtime.record_abandoned(st, wait, NOW)
    return st


def busy_queue(queue_len: int, agents: int = 5, busy: int | None = None) -> QueueState:
    return QueueState(queue_len=queue_len, agents=agents, busy=agents if busy is None else busy)


def test_zero_when_an_agent_is_idle_and_nobody_waits() -> None:
    assert estimate_wait(QueueState(queue_len=0, agents=4, busy=3), stats(), NOW) == 0.0
    assert estimate_wait(QueueState(queue_len=0, agents=4, busy=4), stats(), NOW) > 0.0


def test_erlang_c_value_without_abandonment() -> None:
    # 2 callers ahead, 5 agents, AHT 300 s: the caller needs 3 departures at rate 5/300.
    assert estimate_wait(busy_queue(2), stats(), NOW) == pytest.approx(3 * 300 / 5)


@pytest.mark.parametrize("aband", [0, 30])
def test_monotone_in_position(aband: int) -> None:
    st = stats(answered=200, abandoned=aband)
    waits = [estimate_wait(busy_queue(k), st, NOW) for k in range(0, 60)]
    assert all(b > a for a, b in zip(waits, waits[1:], strict=False))


def test_abandonment_reduces_the_wait_of_answered_callers() -> None:
    patient = stats(answered=300)
    impatient = stats(answered=300, abandoned=100)
    assert holdtime.abandon_rate(patient) == 0.0
    theta = holdtime.abandon_rate(impatient)
    assert theta == pytest.approx(100 / (400 * 60.0), rel=0.1)  # recent events weigh more
    k, s, mu = 20, 5, 1 / 300
    expected = sum(1 / (s * mu + j * theta) for j in range(1, k + 2))
    assert estimate_wait(busy_queue(k), impatient, NOW) == pytest.approx(expected)
    assert estimate_wait(busy_queue(k), impatient, NOW) < estimate_wait(busy_queue(k), patient, NOW)


def test_agents_finishing_after_a_staffing_cut_add_to_the_wait() -> None:
    st = stats()
    cut = estimate_wait(QueueState(queue_len=2, agents=3, busy=5), st, NOW)
    steady = estimate_wait(QueueState(queue_len=2, agents=3, busy=3), st, NOW)
    # Two leaving agents must end first (rates 5/300, 4/300), then 3 departures at 3/300.
    assert cut == pytest.approx(300 / 5 + 300 / 4 + 3 * 300 / 3)
    assert cut > steady


def test_staffing_cut_with_abandonment_is_finite_and_larger() -> None:
    st = stats(answered=100, abandoned=50)
    cut = estimate_wait(QueueState(queue_len=10, agents=3, busy=6), st, NOW)
    steady = estimate_wait(QueueState(queue_len=10, agents=3, busy=3), st, NOW)
    assert math.isfinite(cut)
    assert cut > steady


@pytest.mark.parametrize(("agents", "busy", "queue_len"), [(0, 0, 0), (0, 0, 5), (0, 3, 2),
                                                          (-1, 0, 0), (2, 0, 4)])
def test_finite_and_non_negative_for_odd_staffing(agents: int, busy: int, queue_len: int) -> None:
    est = holdtime.estimate_wait_range(QueueState(queue_len, agents, busy), stats(), NOW)
    assert math.isfinite(est.seconds)
    assert est.seconds >= 0
    if agents <= 0:
        assert est.seconds >= 300.0  # nobody staffed: at least one talk time, said vaguely
        assert est.uncertainty == 1.0


def test_free_agents_take_the_first_callers() -> None:
    # 4 agents, 2 busy, 3 waiting (agents just logged in): only 1 caller is really ahead.
    assert estimate_wait(QueueState(3, 4, 2), stats(), NOW) == pytest.approx(2 * 300 / 4)
    assert estimate_wait(QueueState(1, 4, 2), stats(), NOW) == 0.0


def test_adapts_when_handle_time_changes() -> None:
    st = stats(aht=300, calls=2000, handle=300.0)
    before = estimate_wait(busy_queue(4), st, NOW)
    for i in range(1500):
        st = holdtime.record_call_ended(st, 150.0, NOW + i)
    after = estimate_wait(busy_queue(4), st, NOW)
    assert before == pytest.approx(300.0)
    assert after < 0.75 * before


def test_prior_gives_way_to_observed_talk_times() -> None:
    st = stats(aht=600, calls=200, handle=200.0)
    assert st.handle_mean == pytest.approx(200.0, rel=0.05)


def test_bad_observations_are_ignored() -> None:
    st = stats()
    for bad in (math.nan, math.inf, -5.0):
        assert holdtime.record_call_ended(st, bad, NOW) == st
        assert holdtime.record_answered(st, bad, NOW) == st


def test_new_stats_rejects_a_bad_hint() -> None:
    with pytest.raises(ValueError, match="aht_hint"):
        holdtime.new_stats(0.0)


def test_stats_round_trip_through_json() -> None:
    st = holdtime.record_staffing(stats(calls=7, answered=3, abandoned=2), 4, NOW)
    again = HoldStats.from_dict(json.loads(json.dumps(st.as_dict())) | {"future_field": 1})
    assert again == st


def test_uncertain_until_calls_complete_and_after_staffing_changes() -> None:
    q = busy_queue(5)
    fresh = holdtime.estimate_wait_range(q, stats(), NOW)
    learned = holdtime.estimate_wait_range(q, stats(calls=400), NOW)
    changed = holdtime.record_staffing(stats(calls=400), 3, NOW - 60)
    assert fresh.uncertainty > 0.25 > learned.uncertainty
    assert holdtime.estimate_wait_range(q, changed, NOW).uncertainty >= 0.3
    assert holdtime.estimate_wait_range(q, changed, NOW + 3600).uncertainty < 0.25


def test_ages_do_not_matter_for_exponential_talk() -> None:
    st = stats()  # the prior's second moment is the exponential's: scv 1
    q = QueueState(3, 2, 2, call_ages=(10.0, 900.0))
    assert estimate_wait(q, st, NOW) == pytest.approx(estimate_wait(busy_queue(3, 2), st, NOW))


def test_old_calls_end_sooner_with_regular_talk_times() -> None:
    st = stats(aht=300)
    for i in range(500):  # talk times 250..350 s: nearly deterministic
        st = holdtime.record_call_ended(st, 250.0 + (i % 11) * 10, NOW)
    young = estimate_wait(QueueState(0, 2, 2, call_ages=(5.0, 10.0)), st, NOW)
    old = estimate_wait(QueueState(0, 2, 2, call_ages=(280.0, 290.0)), st, NOW)
    assert old < 0.5 * young


def test_old_calls_last_longer_with_variable_talk_times() -> None:
    assert first_departure_mean((2000.0,), 300.0, 4.0) > first_departure_mean((1.0,), 300.0, 4.0)
    assert first_departure_mean((50.0, 70.0), 300.0, 1.0) == pytest.approx(150.0)
    assert first_departure_mean((), 300.0, 4.0) == 0.0


def test_queue_behind_long_calls_drains_slower_with_variable_talk_times() -> None:
    st = stats(aht=300)
    for i in range(1000):  # mostly short calls and a few very long ones: scv well above 1
        st = holdtime.record_call_ended(st, 1500.0 if i % 10 == 0 else 170.0, NOW)
    assert holdtime.handle_scv(st) > 1.5
    fresh = QueueState(10, 4, 4, call_ages=(20.0, 30.0, 40.0, 50.0))
    stuck = QueueState(10, 4, 4, call_ages=(20.0, 900.0, 1000.0, 1100.0))
    assert estimate_wait(stuck, st, NOW) > 1.2 * estimate_wait(fresh, st, NOW)
    assert math.isfinite(estimate_wait(QueueState(200, 4, 4, call_ages=(1e6,) * 4), st, NOW))


@pytest.mark.parametrize(("law", "lognormal"), [("exp", False), ("logn", True), ("logn4", True)])
def test_shape_of_talk_times_is_recognised(law: str, lognormal: bool) -> None:
    import random

    rng = random.Random(3)
    st = holdtime.new_stats(300.0)
    for _ in range(800):
        if law == "exp":
            x = rng.expovariate(1 / 300)
        else:
            scv = 4.0 if law == "logn4" else 1.0
            sigma = math.sqrt(math.log1p(scv))
            x = rng.lognormvariate(math.log(300) - sigma ** 2 / 2, sigma)
        st = holdtime.record_call_ended(st, x, NOW)
    assert holdtime.talk_is_lognormal(st) is lognormal
