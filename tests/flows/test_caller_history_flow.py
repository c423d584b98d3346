"""The shop flow tells callers apart by their history (history.* from the Redis summary)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.caller_history import flow_variables, summary_fields
from ivr.domain.flow import interpreter
from ivr.domain.flow.actions import CallEvent, Enqueue, Gather, Say
from ivr.domain.flow.loader import load_flow
from ivr.prompts.catalog import PromptCatalog

from .conftest import FLOW_FILES

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # open
T = NOW.timestamp()


@pytest.fixture(scope="module")
def shop(catalog: PromptCatalog):  # type: ignore[no-untyped-def]
    path = next(p for p in FLOW_FILES if p.name == "shop.yaml")
    return load_flow(path.read_text(encoding="utf-8"), str(path), catalog)


def history(**summary: object) -> dict[str, object]:
    """history.* as the webhook builds it from a stored summary (same functions)."""
    fields = summary_fields(summary.get("starts", []), summary.get("outcome"),  # type: ignore[arg-type]
                            summary.get("score"), None, summary.get("tasks", 0),  # type: ignore[arg-type]
                            1, T)
    return flow_variables(fields, T)


def said(actions: tuple[object, ...]) -> list[str]:
    return [a.speech.prompt_id for a in actions if isinstance(a, Say)] + [
        s.prompt_id for a in actions if isinstance(a, Gather) for s in a.prompts]


def test_first_time_caller_hears_the_usual_welcome(shop) -> None:  # type: ignore[no-untyped-def]
    state, actions = interpreter.start(shop, CallEvent("start", NOW, data={"history": history()}))
    assert said(actions)[0] == "shop_welcome"
    assert state.waiting == "choose_language"


def test_returning_caller_is_welcomed_back(shop) -> None:  # type: ignore[no-untyped-def]
    state, actions = interpreter.start(shop, CallEvent("start", NOW, data={
        "history": history(starts=[T - 3600], outcome="answered", score=4)}))
    assert said(actions)[0] == "shop_returning"
    assert state.waiting == "choose_language"


@pytest.mark.parametrize("summary", [
    {"starts": [T - 600], "outcome": "answered", "score": 2},      # unhappy last time
    {"starts": [T - 86400 * 3], "outcome": "abandoned", "tasks": 1},  # follow-up still open
], ids=["low-score", "open-task"])
def test_unhappy_caller_goes_to_a_person_with_priority(shop, summary) -> None:  # type: ignore[no-untyped-def]
    state, actions = interpreter.start(shop, CallEvent("start", NOW, data={
        "history": history(**summary)}))
    assert said(actions)[0] == "shop_returning_priority"
    state, actions = interpreter.step(shop, state, CallEvent("input", NOW, digits="2"))
    enqueue = actions[-1]
    assert isinstance(enqueue, Enqueue)
    assert (enqueue.queue, enqueue.priority, state.language) == ("support", 5, "es-US")
    normal = [n for n in shop.nodes.values() if getattr(n, "queue", None) == "support"
              and n.id != "priority_queue"]
    assert normal
    assert all(n.priority < 5 for n in normal)  # type: ignore[attr-defined]


def test_satisfied_caller_with_no_tasks_is_not_prioritised(shop) -> None:  # type: ignore[no-untyped-def]
    _, actions = interpreter.start(shop, CallEvent("start", NOW, data={
        "history": history(starts=[T - 60], outcome="answered", score=3)}))
    assert said(actions)[0] == "shop_returning"
