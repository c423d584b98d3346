"""The staffing advisor's forecast and advice, as plain data (ivr/domain/staffing_advice.py)."""

from __future__ import annotations

import math

import pytest

from ivr.domain.staffing import Demand, agents_needed, predict
from ivr.domain.staffing_advice import (
    PRIOR_ARRIVALS,
    SLOT,
    SLOTS_PER_DAY,
    Arrivals,
    Forecast,
    advice_sentence,
    advise,
    as_dict,
    forecast_arrivals,
    slots_of,
)


def day(per_slot: dict[int, int]) -> tuple[int, ...]:
    return slots_of([per_slot.get(s, 0) for s in range(SLOTS_PER_DAY)])


# A Monday shape: 30 calls a quarter hour from 9:00 (slot 36), 60 from 10:00 (slot 40) to 11:00.
SHAPE = {**{s: 30 for s in range(36, 40)}, **{s: 60 for s in range(40, 44)}}


def test_without_history_the_last_hour_is_the_rate_now_and_next():
    today = [0] * 36 + [10, 20, 30, 40]  # slot 39 has run 450 s of its 900
    forecast = forecast_arrivals(Arrivals(tuple(today), (), elapsed=450))
    assert forecast.now == pytest.approx(100 / (3 * SLOT + 450))
    assert forecast.next_hour == forecast.now
    assert forecast.level is None


def test_today_at_the_usual_level_follows_the_pattern_into_the_busier_hour():
    today = tuple(SHAPE.get(s, 0) for s in range(40))  # slot 39 current, run in full
    forecast = forecast_arrivals(Arrivals(today, (day(SHAPE), day(SHAPE)), elapsed=SLOT))
    assert forecast.level == pytest.approx(1.0)
    assert forecast.now == pytest.approx(30 / SLOT)
    assert forecast.next_hour == pytest.approx(60 / SLOT)  # 10:00-11:00 is twice as busy


def test_a_busy_day_scales_the_pattern_and_a_few_callers_do_not():
    past = (day(SHAPE), day(SHAPE))
    busy = tuple(2 * SHAPE.get(s, 0) for s in range(40))  # twice the usual
    level = forecast_arrivals(Arrivals(busy, past, elapsed=SLOT)).level
    assert level == pytest.approx((240 + PRIOR_ARRIVALS) / (120 + PRIOR_ARRIVALS))
    early = [0] * 36 + [3]  # three callers in the first minute of 9:00
    quiet = forecast_arrivals(Arrivals(tuple(early), past, elapsed=60))
    # 3 callers against the 2 the pattern expects in that minute (30 per slot), damped by the prior
    assert quiet.level == pytest.approx((3 + PRIOR_ARRIVALS) / (30 * 60 / SLOT + PRIOR_ARRIVALS))


def test_the_window_starts_with_todays_first_call():
    # the line opened at 8:00 (slot 32) and it is 8:10: ten minutes of callers, not an hour
    opened = [0] * 32 + [5]
    assert forecast_arrivals(Arrivals(tuple(opened), (), elapsed=600)).now == \
        pytest.approx(5 / 600)
    # a quiet half hour after earlier calls still counts in the hour
    quiet = [0] * 30 + [4, 0, 0, 0, 1]
    assert forecast_arrivals(Arrivals(tuple(quiet), (), elapsed=SLOT)).now == \
        pytest.approx(1 / (4 * SLOT))


def test_a_slot_the_pattern_never_saw_busy_uses_todays_rate():
    today = [0] * 10 + [5, 5]
    forecast = forecast_arrivals(Arrivals(tuple(today), (day(SHAPE),), elapsed=SLOT))
    assert forecast.now == pytest.approx(10 / (2 * SLOT))  # since the first call (slot 10)
    assert forecast.next_hour == forecast.now


def test_the_arrivals_need_the_current_slot():
    with pytest.raises(ValueError, match="current slot"):
        forecast_arrivals(Arrivals(()))


def test_advice_matches_the_model_and_says_how_many_more():
    forecast = Forecast(now=120 / 3600, next_hour=240 / 3600, level=1.0)
    advice = advise("support", 7, forecast, aht=300, patience=600, target=0.8, answer_within=20)
    demand = Demand(120 / 3600, 300, 600, 0.8, 20)
    needed = agents_needed(demand)
    assert advice.needed == needed
    assert needed.agents > 7
    assert advice.current == predict(demand, 7)
    assert [p.agents for p in advice.options] == [4, 5, 6, 8, 9, 10]
    assert advice.next_hour is not None
    assert advice.next_hour.agents > needed.agents  # twice the calls
    more = needed.agents - 7
    assert advice.sentence == (f"you need {more} more agent{'s' if more > 1 else ''} "
                               "on support to reach 80 % in 20 s")
    data = as_dict(advice)
    assert (data["agents_needed"], data["calls_per_hour"]) == (needed.agents, 120.0)


def test_one_agent_fewer_on_a_break_moves_the_advice():
    forecast = Forecast(now=120 / 3600, next_hour=120 / 3600, level=None)
    full = advise("support", 13, forecast, 300, 600, 0.8, 20)
    fewer = advise("support", 12, forecast, 300, 600, 0.8, 20)
    assert full.current is not None
    assert fewer.current is not None
    assert fewer.current.service_level < full.current.service_level
    assert full.sentence != fewer.sentence


def test_nobody_working_has_no_current_figures_and_options_start_at_one():
    advice = advise("sales", 0, Forecast(0.01, 0.01, None), 200, None, 0.8, 20)
    assert advice.current is None
    assert [p.agents for p in advice.options] == [1, 2, 3]
    assert advice.sentence.startswith("you need ")


def test_sentences_for_enough_too_many_and_impossible():
    exact = predict(Demand(0.01, 200), 3)
    assert advice_sentence("sales", 3, exact, 0.8, 20) == \
        "sales has the 3 agents it needs to reach 80 % in 20 s"
    assert advice_sentence("sales", 5, exact, 0.9, 30) == \
        "sales reaches 90 % in 30 s with 2 agents fewer"
    assert "cannot reach" in advice_sentence("sales", 5, None, 0.8, 20)


def test_no_calls_needs_one_agent_and_is_served_at_once():
    advice = advise("sales", 2, Forecast(0.0, 0.0, None), 200, None, 0.8, 20)
    assert advice.needed is not None
    assert advice.needed.agents == 1
    assert advice.current is not None
    assert advice.current.service_level == 1.0
    assert not math.isinf(advice.current.asa)
