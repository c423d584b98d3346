"""A remembered call start (ivr/phone/first_step_memo.py over ivr/domain/flow/start_trace.py)
is exactly the walked one: for the shipped flows and for flows whose first step reads the
caller, the clock, the hours or writes a variable, over generated callers, flags, histories
and times (the hours' edges and holidays included), one memo answering a run of calls gives
what `interpreter.start` gives for each, and does answer from its traces where it may."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.config.calendars import load_calendars
from ivr.domain.flow import interpreter
from ivr.domain.flow.actions import CallEvent
from ivr.domain.flow.loader import load_flow
from ivr.domain.flow.model import Flow
from ivr.domain.flow.start_trace import start_traced
from ivr.phone.first_step_memo import FirstStepMemo
from tests.domain.flow.conftest import PROMPTS, DictCatalog, both, flow_text

from .conftest import FLOW_FILES, ROOT

LA = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 12, 21, 0, 0, tzinfo=LA)  # the week of 25 December
EDGES = [timedelta(hours=h, minutes=m, seconds=s) for h, m, s in
         [(8, 0, 0), (8, 59, 59), (9, 0, 0), (9, 0, 1), (16, 59, 59), (17, 0, 0), (18, 0, 0),
          (17, 59, 59), (10, 0, 0), (14, 0, 0), (23, 59, 59)]]
TIMES = st.one_of(
    st.builds(lambda day, edge: MONDAY + timedelta(days=day) + edge,
              st.integers(0, 8), st.sampled_from(EDGES)),
    st.builds(lambda seconds: MONDAY + timedelta(seconds=seconds), st.integers(0, 9 * 86400)))
CALLERS = st.fixed_dictionaries({
    "From": st.sampled_from(["+15551230000", "+14155550123", "anonymous", ""]),
    "To": st.sampled_from(["+14155550100", "+15550000001"]),
    "CallSid": st.sampled_from(["CA1", "CA2"])})
FLAGS = st.sampled_from([{}, {"emergency_closed": True}, {"emergency_closed": "1"},
                         {"always_open": True}, {"storm": True}])
HISTORIES = st.sampled_from([
    {}, {"returning": True, "calls_24h": 1, "last_outcome": "answered", "last_satisfaction": 5},
    {"returning": True, "calls_24h": 2, "last_outcome": "answered", "last_satisfaction": 1},
    {"returning": True, "calls_24h": 1, "last_outcome": "abandoned", "open_tasks": 1}])
EVENTS = st.lists(st.builds(
    lambda now, caller, flags, history: CallEvent(
        "start", now.astimezone(ZoneInfo("UTC")), caller=caller,
        data={"flags": flags, "history": history}),
    TIMES, CALLERS, FLAGS, HISTORIES), min_size=1, max_size=25)

TEST_PROMPTS = {**PROMPTS, "greet_caller": both("Hello {{ caller.From | digits }}."),
                "clock": both("It is {{ time.time }} on {{ time.weekday }}.")}
MENU = """\
menu:
  type: menu
  say: menu
  options:
    '1': {goto: bye}
    '2': {goto: closed}
bye: {type: hangup, reason: done}
closed: {type: say, say: bye, next: bye}
"""
SYNTHETIC = {
    "hours first": "main: {type: hours, schedule: office, open: menu, closed: closed, "
                   "holiday: closed, emergency: closed}\n" + MENU,
    "caller branch": """\
main:
  type: branch
  cases:
    - {if: "caller.From == '+15551230000'", goto: hello}
  else: menu
hello: {type: say, say: greet_caller, next: menu}
""" + MENU,
    "clock prompt": "main: {type: say, say: clock, next: menu}\n" + MENU,
    "time branch": """\
main:
  type: branch
  cases:
    - {if: "time.hour >= 12", goto: closed}
  else: menu
""" + MENU,
    "set first": """\
main: {type: set, values: {who: "{{ caller.From }}"}, next: route}
route:
  type: branch
  cases:
    - {if: "who == '+15551230000'", goto: closed}
  else: menu
""" + MENU,
}


def shipped(name: str) -> Flow:
    from ivr.prompts.catalog import load_catalog

    path = next(p for p in FLOW_FILES if p.name == name)
    return load_flow(path.read_text(encoding="utf-8"), str(path),
                     load_catalog(ROOT / "prompts" / "catalog.yaml"),
                     load_calendars(ROOT / "calendars.yaml"))


FLOWS: dict[str, Flow] = {
    **{p.name: shipped(p.name) for p in FLOW_FILES},
    **{name: load_flow(flow_text(nodes), f"{name}.yaml", DictCatalog(TEST_PROMPTS))
       for name, nodes in SYNTHETIC.items()}}


@pytest.mark.parametrize("name", sorted(FLOWS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=EVENTS, size=st.sampled_from([1, 2, 8]))
def test_a_remembered_start_is_the_walked_one(name: str, events: list[CallEvent],
                                              size: int) -> None:
    flow, memo = FLOWS[name], FirstStepMemo(size)
    for event in events:
        assert memo(flow, event) == interpreter.start(flow, event)
    assert memo.walked + memo.replayed == len(events)


def run_of(flow: Flow, events: list[CallEvent]) -> FirstStepMemo:
    memo = FirstStepMemo(8)
    for event in events:
        assert memo(flow, event) == interpreter.start(flow, event)
    return memo


def start(now: datetime, caller: str = "+14155550123", **data: Any) -> CallEvent:
    return CallEvent("start", now, caller={"From": caller, "To": "+14155550100"}, data=data)


def test_first_time_callers_are_answered_from_one_trace() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=LA)
    memo = run_of(FLOWS["shop.yaml"], [start(tuesday + timedelta(seconds=i), f"+1415555{i:04d}")
                                       for i in range(50)])
    assert (memo.walked, memo.replayed) == (1, 49)


def test_a_start_reading_the_caller_walks_for_another_caller() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=LA)
    memo = run_of(FLOWS["caller branch"], [start(tuesday, "+15551230000"),
                                           start(tuesday, "+14155550123"),
                                           start(tuesday, "+15551230000"),
                                           start(tuesday, "+14155550123")])
    assert (memo.walked, memo.replayed) == (2, 2)


def test_the_hours_edge_is_seen_to_the_second() -> None:
    """17:00:00 closes the office of the synthetic flows: the last second before it replays
    the open start, the first second of closed walks again."""
    tuesday = datetime(2026, 11, 24, 16, 59, 58, tzinfo=LA)
    events = [start(tuesday), start(tuesday + timedelta(seconds=1)),
              start(tuesday + timedelta(seconds=2)), start(tuesday + timedelta(seconds=3))]
    memo = run_of(FLOWS["hours first"], events)
    assert (memo.walked, memo.replayed) == (2, 2)
    assert interpreter.start(FLOWS["hours first"], events[2])[0].waiting is None  # closed


def test_a_start_that_writes_a_variable_is_not_remembered() -> None:
    flow = FLOWS["set first"]
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=LA)
    assert start_traced(flow, start(tuesday))[2] is None
    memo = run_of(flow, [start(tuesday), start(tuesday)])
    assert (memo.walked, memo.replayed) == (2, 0)


def test_a_replayed_state_shares_nothing_with_its_trace() -> None:
    flow, tuesday = FLOWS["shop.yaml"], datetime(2026, 11, 24, 10, 0, tzinfo=LA)
    memo = FirstStepMemo(8)
    first, _ = memo(flow, start(tuesday))
    first.outcome["language"] = "changed"   # a caller of the memo changing what it got
    first.vars["caller"]["From"] = "changed"
    second, _ = memo(flow, start(tuesday + timedelta(seconds=5)))
    assert memo.replayed == 1
    assert second == interpreter.start(flow, start(tuesday + timedelta(seconds=5)))[0]
    assert second.path[0].at == (tuesday + timedelta(seconds=5)).isoformat()


def test_size_zero_always_walks() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=LA)
    memo = FirstStepMemo(0)
    for _ in range(3):
        assert memo(FLOWS["shop.yaml"], start(tuesday)) == interpreter.start(
            FLOWS["shop.yaml"], start(tuesday))
    assert (memo.walked, memo.replayed) == (0, 0)
