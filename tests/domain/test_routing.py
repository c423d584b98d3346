from __future__ import annotations

import math

import pytest

from ivr.domain.phone_numbers import BadNumber, validate_callback_number
from ivr.domain.queueing import (
    Agent,
    OverflowRule,
    Presence,
    RelaxStep,
    Waiting,
    score,
    unpack_score,
)
from ivr.domain.routing import (
    QueueLine,
    choose_caller,
    match,
    match_across,
    overflow_due,
    parked_until,
    required_level,
)

RELAX = (RelaxStep(0, 4), RelaxStep(30, 2), RelaxStep(90, 1))
NOW = 1_700_000_000.0


def agent(aid: str, skills: dict[str, int], idle: float, presence=Presence.AVAILABLE) -> Agent:
    return Agent(aid, aid, f"client:{aid}", skills, presence, idle)


def caller(member: str, waited: float, priority: int = 0, skills=("support",),
           not_before: float = 0.0) -> Waiting:
    start = NOW - waited
    return Waiting(member, tuple(skills), priority, start, start, not_before)


@pytest.mark.parametrize(("waited", "level"), [(0, 4), (29.9, 4), (30, 2), (89, 2), (90, 1),
                                               (5000, 1)])
def test_required_level_relaxes_with_wait(waited, level):
    assert required_level(RELAX, waited) == level


def test_score_orders_priority_then_start_and_round_trips():
    assert score(5, NOW + 100) < score(0, NOW)
    assert score(0, NOW) < score(0, NOW + 0.001)
    assert unpack_score(score(7, NOW + 1.5)) == (7, NOW + 1.5)
    with pytest.raises(ValueError, match="priority"):
        score(10, NOW)


def test_match_serves_priority_then_longest_waiting_with_longest_idle_agent():
    line = [caller("late", 10), caller("vip", 1, priority=5), caller("early", 20),
            caller("sales", 50, skills=("sales",))]
    agents = [agent("a-new", {"support": 5}, NOW - 10), agent("b-old", {"support": 5}, NOW - 500),
              agent("c-mid", {"support": 4, "sales": 5}, NOW - 100),
              agent("d-away", {"support": 5}, NOW - 900, Presence.BREAK)]
    pairs = [(c.member, a.id) for c, a in match(line, agents, RELAX, NOW)]
    # sales (50 s) is ahead of early (20 s) and only c-mid has sales; late finds nobody
    assert pairs == [("vip", "b-old"), ("sales", "c-mid"), ("early", "a-new")]


def test_proficiency_threshold_passes_over_head_without_losing_place():
    # the priority-3 head waited 10 s (needs >=4); the second waited 40 s (needs >=2), so the
    # level-2 agent takes the second caller and the head keeps position 1.
    line = [caller("head", 10, priority=3), caller("older", 40)]
    agents = [agent("junior", {"support": 2}, NOW - 100)]
    assert [(c.member, a.id) for c, a in match(line, agents, RELAX, NOW)] == [("older", "junior")]
    # after 90 s the head takes anyone
    line = [caller("head", 95, priority=3), caller("older", 40)]
    assert [(c.member, a.id) for c, a in match(line, agents, RELAX, NOW)] == [("head", "junior")]


def test_choose_caller_skips_wrong_skill_and_future_callbacks():
    line = [caller("cb:later", 200, not_before=NOW + 60),
            caller("billing", 150, skills=("billing",)), caller("ok", 31), caller("ok2", 5)]
    junior = agent("j", {"support": 2}, NOW)
    assert choose_caller(junior, line, RELAX, NOW).member == "ok"
    assert choose_caller(junior, line, RELAX, NOW + 61).member == "cb:later"
    assert choose_caller(agent("x", {"sales": 5}, NOW), line, RELAX, NOW) is None


def test_parked_until_sets_aside_only_what_may_not_be_routed_now():
    assert parked_until(caller("cb:later", 200, not_before=NOW + 60), NOW, True) == NOW + 60
    assert parked_until(caller("cb:later", 200, not_before=NOW + 60), NOW, False) == NOW + 60
    assert parked_until(caller("cb:due", 200, not_before=NOW), NOW, True) is None
    assert parked_until(caller("cb:due", 200, not_before=NOW - 1), NOW, False) == math.inf
    assert parked_until(caller("cb:now", 20), NOW, True) is None
    assert parked_until(caller("CA1", 20), NOW, False) is None  # hours only gate callbacks


def lines(**by_queue: list[Waiting]) -> list[QueueLine]:
    return [QueueLine(q, tuple(callers), RELAX) for q, callers in by_queue.items()]


def pairs_across(found) -> list[tuple[str, str, str]]:
    return [(q, c.member, a.id) for q, c, a in found]


@pytest.mark.parametrize("order", [("sales", "support"), ("support", "sales")])
def test_agent_in_two_queues_takes_equal_priority_caller_who_waited_longer(order):
    both = agent("pat", {"support": 5, "sales": 5}, NOW - 100)
    by = {"support": [caller("s-new", 10)], "sales": [caller("b-old", 40, skills=("sales",))]}
    found = match_across(lines(**{q: by[q] for q in order}), [both], NOW)
    assert pairs_across(found) == [("sales", "b-old", "pat")]


def test_agent_in_two_queues_takes_higher_priority_before_longer_wait():
    both = agent("pat", {"support": 5, "sales": 5}, NOW - 100)
    found = match_across(lines(support=[caller("vip", 5, priority=2)],
                               sales=[caller("old", 80, skills=("sales",))]), [both], NOW)
    assert pairs_across(found) == [("support", "vip", "pat")]


def test_across_queues_each_caller_needs_their_own_queues_level():
    # sales relaxes only after 60 s; the sales caller ranks first (waited longer) but the
    # level-2 agent does not qualify yet, so the support caller (30 s: level 2) is served
    junior = agent("j", {"support": 2, "sales": 2}, NOW - 100)
    strict = QueueLine("sales", (caller("b-old", 45, skills=("sales",)),),
                       (RelaxStep(0, 4), RelaxStep(60, 1)))
    found = match_across([strict, *lines(support=[caller("s", 30)])], [junior], NOW)
    assert pairs_across(found) == [("support", "s", "j")]
    found = match_across([strict, *lines(support=[caller("s", 30)])], [junior], NOW + 15)
    assert pairs_across(found) == [("sales", "b-old", "j")]


def test_across_queues_other_agents_are_still_used_longest_idle_first():
    both = agent("pat", {"support": 5, "sales": 5}, NOW - 100)
    sales_only = agent("sam", {"sales": 5}, NOW - 900)
    by = lines(support=[caller("s", 10)], sales=[caller("b", 40, skills=("sales",))])
    found = match_across(by, [both, sales_only], NOW)
    assert pairs_across(found) == [("sales", "b", "sam"), ("support", "s", "pat")]


def test_overflow_due_rules():
    widen = OverflowRule(60, "widen", skills=("sales",))
    assert not overflow_due(widen, caller("a", 59), NOW)
    assert overflow_due(widen, caller("a", 60), NOW)
    assert not overflow_due(widen, caller("a", 90, skills=("support", "sales")), NOW)
    assert not overflow_due(OverflowRule(0, "voicemail"), caller("cb:1", 900), NOW)
    assert not overflow_due(None, caller("a", 900), NOW)


@pytest.mark.parametrize(("raw", "expected"), [
    ("+14155550100", "+14155550100"),
    ("+44 20 7946 0018", "+442079460018"),
    ("0033 1 23 45 67 89", "+33123456789"),
    ("+1 (212) 555-0199", "+12125550199"),
])
def test_valid_callback_numbers(raw, expected):
    assert validate_callback_number(raw) == expected


@pytest.mark.parametrize(("raw", "why"), [
    ("+19005550100", "premium"), ("+19765550100", "not a valid number"),
    ("+449091234567", "premium"),
    ("911", "short"), ("116123", "short"), ("4155550100", "E.164"), ("+0123456789", "E.164"),
    ("+1415555010012345", "E.164"), ("", "E.164"), ("+1415abc0100", "E.164"),
])
def test_refused_callback_numbers(raw, why):
    with pytest.raises(BadNumber, match=why):
        validate_callback_number(raw)
