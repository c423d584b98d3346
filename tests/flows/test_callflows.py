"""Every shipped flow loads, and a caller can reach both a self-service answer and a human.

The walker is generic: it explores each flow breadth-first, answering every wait with each
menu key, a valid test number for inputs, found/not-found/failed for lookups, and so on, and
records which endings it reached. So a new file in callflows/ is tested with no new code.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.flow import interpreter, model
from ivr.domain.flow.actions import (
    CallEvent,
    CallState,
    Gather,
    Hangup,
    Lookup,
    Record,
    Say,
)
from ivr.domain.flow.loader import load_flow
from ivr.prompts.catalog import PromptCatalog

from .conftest import FLOW_FILES

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # a Tuesday
ORDER = {"order_number": "10000008", "total": "116.11", "delivery_date": "2026-11-26",
         "carrier": "UPS"}
OUTAGE = {"postcode": "94107", "message": "a damaged line",
          "restore_time": "2026-11-24T18:00:00-08:00"}
RECORDS = {  # rows as the CSVs in data/ hold them, one per status a flow branches on
    "orders": [{**ORDER, "status": s} for s in ("shipped", "processing", "delivered",
                                                "delayed")],
    "accounts": [{"account_number": "55000004", "balance": "332.55",
                  "due_date": "2026-12-10"}],
    "outages": [{**OUTAGE, "status": s} for s in ("outage", "planned", "none")],
}
TEST_DIGITS = {8: "10000008", 5: "94107"}
# Who is calling (history.* in branch conditions): a first-time caller, one who called before
# and was happy, one who gave a low score last time, one with a follow-up task still open.
HISTORIES = [
    {},
    {"returning": True, "calls_24h": 1, "last_outcome": "answered", "last_satisfaction": 5},
    {"returning": True, "calls_24h": 2, "last_outcome": "answered", "last_satisfaction": 1},
    {"returning": True, "calls_24h": 1, "last_outcome": "abandoned", "open_tasks": 1},
]


FIXED_ANSWERS: dict[type[model.Node], list[CallEvent]] = {
    model.QueueNode: [CallEvent("queue_result", NOW, data={"result": r})
                      for r in ("bridged", "callback", "closed")],
    model.SurveyNode: [CallEvent("input", NOW, digits="5")],
    model.VoicemailNode: [CallEvent("record_result", NOW, data={"url": "https://r/1"})],
    model.TransferNode: [CallEvent("dial_result", NOW, data={"status": "completed"})],
}


def answers(flow: model.Flow, state: CallState) -> Iterator[CallEvent]:
    """Every answer worth trying for the node the call waits on."""
    node = flow.nodes[state.waiting or ""]
    if isinstance(node, model.MenuNode):
        for key in [o.key for o in node.options] + ["0"]:
            yield CallEvent("input", NOW, digits=key)
    elif isinstance(node, model.InputNode):
        yield CallEvent("input", NOW, digits=TEST_DIGITS.get(node.max_length, "1"))
    elif isinstance(node, model.LookupNode):
        for record in RECORDS[node.source]:
            yield CallEvent("lookup_result", NOW, data={"ok": True, "record": record})
        yield CallEvent("lookup_result", NOW, data={"ok": True, "record": None})
        yield CallEvent("lookup_result", NOW, data={"ok": False, "error": "timeout"})
    else:
        yield from FIXED_ANSWERS[type(node)]


def explore(flow: model.Flow, limit: int = 800) -> tuple[set[str], list[CallState]]:
    """Visit states breadth-first from every caller history; return the node ids seen and
    every ended call."""
    todo = deque(interpreter.start(flow, CallEvent("start", NOW, caller={"To": "x"},
                                                   data={"history": h}))[0] for h in HISTORIES)
    seen: set[str] = set()
    ended: list[CallState] = []
    steps = 0
    while todo and steps < limit:
        state = todo.popleft()
        seen.update(v.node for v in state.path)
        if state.ended:
            ended.append(state)
            continue
        for answer in answers(flow, state):
            steps += 1
            new, acts = interpreter.step(flow, state, answer)
            assert acts, f"{flow.id}: no action after {answer}"   # never silence
            todo.append(new)
    return seen, ended


@pytest.fixture(scope="module", params=FLOW_FILES, ids=lambda p: p.name)
def flow(request: pytest.FixtureRequest, catalog: PromptCatalog) -> model.Flow:
    path: Path = request.param
    return load_flow(path.read_text(encoding="utf-8"), str(path), catalog)


def test_there_are_demo_flows() -> None:
    assert len(FLOW_FILES) >= 2


def test_flow_is_bilingual(flow: model.Flow) -> None:
    assert {"en-US", "es-US"} <= set(flow.languages)


def test_every_node_is_visited_by_the_walker(flow: model.Flow) -> None:
    seen, _ = explore(flow)
    authored = {n for n in flow.nodes if not n.startswith("_")}
    # Hours-dependent nodes (closed, holiday, emergency) need other times; walk_hours covers them.
    unseen = authored - seen - {"after_hours", "holiday", "emergency", "leave_message",
                                "storm_notice"}
    assert unseen == set()


def test_reaches_a_self_service_answer_and_a_queue(flow: model.Flow) -> None:
    _, ended = explore(flow)
    solved = [s for s in ended if any(a["solved"] for a in s.outcome.get("self_service", []))]
    queued = [s for s in ended if "queue" in s.outcome]
    assert solved, f"{flow.id}: no walk reached a self-service answer"
    assert queued, f"{flow.id}: no walk reached a queue"
    assert any(s.outcome.get("survey") for s in queued)


def test_first_language_menu_switches_to_spanish(flow: model.Flow) -> None:
    state, _ = interpreter.start(flow, CallEvent("start", NOW))
    state, actions = interpreter.step(flow, state, CallEvent("input", NOW, digits="2"))
    assert state.language == "es-US"
    assert isinstance(actions[-1], Gather)
    assert actions[-1].language == "es-US"


def test_after_hours_goes_to_voicemail(flow: model.Flow) -> None:
    night = datetime(2026, 11, 24, 23, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    state, _ = interpreter.start(flow, CallEvent("start", night))
    state, actions = interpreter.step(flow, state, CallEvent("input", night, digits="0"))
    assert isinstance(actions[-1], Record)
    closed = [v for v in state.path if v.detail == "closed"]
    assert closed


def test_emergency_closure_flag(flow: model.Flow) -> None:
    state, _ = interpreter.start(flow, CallEvent("start", NOW,
                                                 data={"flags": {"emergency_closed": "1"}}))
    state, actions = interpreter.step(flow, state, CallEvent("input", NOW, digits="0"))
    assert isinstance(actions[-1], Record)
    assert any(v.detail == "emergency" for v in state.path)


def test_shop_order_status_speaks_date_and_money(catalog: PromptCatalog) -> None:
    path = next(p for p in FLOW_FILES if p.name == "shop.yaml")
    flow = load_flow(path.read_text(encoding="utf-8"), str(path), catalog)
    state, _ = interpreter.start(flow, CallEvent("start", NOW))
    for ev in (CallEvent("input", NOW, digits="1"), CallEvent("input", NOW, digits="1"),
               CallEvent("input", NOW, digits="10000008")):
        state, actions = interpreter.step(flow, state, ev)
    assert actions[-1] == Lookup("orders", {"order_number": "10000008"}, 3.0)
    state, actions = interpreter.step(flow, state, CallEvent(
        "lookup_result", NOW, data={"ok": True, "record": RECORDS["orders"][0]}))
    said = actions[0]
    assert isinstance(said, Say)
    assert said.speech.text == (
        "Order 1 0 0 0 0 0 0 8 has shipped with UPS and should arrive on Thursday, "
        "November 26. The order total was one hundred sixteen dollars and eleven cents.")
    state, actions = interpreter.step(flow, state, CallEvent("input", NOW, speech="yes",
                                                             confidence=0.8))
    assert actions[-1] == Hangup("self_service")
    assert state.outcome["self_service"] == [
        {"node": "order_shipped", "task": "order_status", "solved": True}]
