"""Announced ranges: calibrated on outcomes, narrow where the wait is predictable, wide where
it is not, and spoken so that the words contain the computed range."""

from __future__ import annotations

import math
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.domain import holdtime, wait_range
from ivr.domain.announce import describe_range
from ivr.domain.holdtime import QueueState, WaitEstimate


@pytest.mark.parametrize(("low", "high", "en", "es"), [
    (0.0, 0.0, "less than a minute", "menos de un minuto"),
    (10.0, 50.0, "less than a minute", "menos de un minuto"),
    (20.0, 200.0, "less than 4 minutes", "menos de 4 minutos"),
    (130.0, 170.0, "about 3 minutes", "unos 3 minutos"),
    (185.0, 290.0, "between 3 and 5 minutes", "entre 3 y 5 minutos"),
    (700.0, 890.0, "about 15 minutes", "unos 15 minutos"),
    (700.0, 1300.0, "between 10 and 25 minutes", "entre 10 y 25 minutos"),
    (2000.0, 4000.0, "more than 30 minutes", "más de 30 minutos"),
    (3700.0, 5000.0, "more than an hour", "más de una hora"),
])
def test_range_phrases(low: float, high: float, en: str, es: str) -> None:
    assert describe_range(low, high, "en") == en
    assert describe_range(low, high, "es") == es


@given(st.floats(0, 3500), st.floats(0, 3500))
def test_the_spoken_range_contains_the_computed_one(a: float, b: float) -> None:
    low, high = min(a, b), max(a, b)
    words = describe_range(low, high)
    numbers = [int(n) for n in re.findall(r"\d+", words)]
    if words.startswith("between"):
        assert numbers[0] * 60 <= low
        assert high <= numbers[1] * 60
    elif words.startswith(("less than", "about")) and numbers:
        assert high <= numbers[0] * 60
    elif words == "less than a minute":
        assert high < 60
    else:
        assert words.startswith("more than")
        assert low >= (numbers[0] * 60 if numbers else 3600)


def _learn(spread_truth: float, spread_model: float, callers: int, seed: int) -> float:
    """Coverage, on fresh callers, of ranges learned from `callers` answered ones whose real
    log waits scatter `spread_truth` around a forecast that claims `spread_model`."""
    rng = random.Random(seed)
    stats = holdtime.new_stats(300.0)
    forecast = WaitEstimate(240.0, 0.0, spread_model)
    m = math.log(240.0) - spread_truth ** 2 / 2
    for _ in range(callers):
        wait = math.exp(rng.gauss(m, spread_truth))
        stats = wait_range.record_range_outcome(stats, forecast, wait)
    low, high = wait_range.announced_range(forecast, stats)
    fresh = [math.exp(rng.gauss(m, spread_truth)) for _ in range(20_000)]
    return sum(low <= w <= high for w in fresh) / len(fresh)


@pytest.mark.parametrize(("truth", "model"), [(0.3, 0.3), (0.6, 0.3), (0.2, 0.5)])
def test_ranges_learn_the_coverage_whatever_the_model_claims(truth: float, model: float) -> None:
    coverage = _learn(truth, model, 3000, seed=3)
    assert abs(coverage - wait_range.COVERAGE) < 0.06


def test_narrow_far_back_behind_many_agents_wide_first_in_line_behind_three() -> None:
    stats = holdtime.new_stats(300.0)
    for i in range(400):
        stats = holdtime.record_call_ended(stats, 300.0 * (0.5 + (i % 10) / 9), float(i))
    far = holdtime.estimate_wait_range(QueueState(queue_len=39, agents=50, busy=50), stats, 1e4)
    first = holdtime.estimate_wait_range(QueueState(queue_len=0, agents=3, busy=3), stats, 1e4)
    far_low, far_high = wait_range.announced_range(far, stats)
    first_low, first_high = wait_range.announced_range(first, stats)
    assert far_low < far.seconds < far_high
    assert first_low < first.seconds < first_high
    assert far_high / far_low < 2.0 < first_high / first_low


def test_nobody_waits_no_range_and_bad_waits_teach_nothing() -> None:
    stats = holdtime.new_stats(300.0)
    idle = holdtime.estimate_wait_range(QueueState(queue_len=0, agents=3, busy=1), stats, 0.0)
    assert wait_range.announced_range(idle, stats) == (0.0, 0.0)
    told = WaitEstimate(120.0, 0.1, 0.4)
    for bad in (float("nan"), -5.0, float("inf")):
        assert wait_range.record_range_outcome(stats, told, bad) == stats
    assert wait_range.record_range_outcome(stats, idle, 30.0) == stats  # no forecast given
    low, high = wait_range.announced_range(told, holdtime.HoldStats.from_dict(
        {**stats.as_dict(), "z_low": -50.0, "z_high": 50.0}))
    assert 0.0 <= low <= high <= holdtime.MAX_WAIT
    assert wait_range.inside(low, high, 120.0)
