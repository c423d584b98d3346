"""Fixtures for flow tests: an in-memory prompt catalogue, a flow builder and call events.

Flows in tests are small YAML strings, so each test shows the exact text whose line numbers
it asserts. `flow_text(nodes)` wraps node YAML in a valid header (two languages, a support
queue, business hours) whose line count is `HEADER_LINES`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.flow import interpreter
from ivr.domain.flow.actions import Action, CallEvent, CallState
from ivr.domain.flow.loader import SYSTEM_PROMPTS, load_flow
from ivr.domain.flow.model import Flow

LA = ZoneInfo("America/Los_Angeles")
# Tuesday 24 November 2026, 10:00 in Los Angeles: inside the test hours.
TUESDAY_10AM = datetime(2026, 11, 24, 10, 0, tzinfo=LA)


class DictCatalog:
    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self.texts = texts

    def text(self, prompt_id: str, language: str) -> str:
        return self.texts[prompt_id][language]


def both(en: str, es: str | None = None) -> dict[str, str]:
    return {"en-US": en, "es-US": es if es is not None else f"es: {en}"}


PROMPTS: dict[str, dict[str, str]] = {
    **{name: both(name.replace("_", " ")) for name in SYSTEM_PROMPTS},
    "hello": both("Hello."),
    "menu": both("Press 1 for orders.", "Oprima 1 para pedidos."),
    "ask": both("Enter your number."),
    "total": both("Your total is {{ order.total | money }}.",
                  "Su total es {{ order.total | money }}."),
    "bye": both("Bye."),
    "only_en": {"en-US": "English only."},
    "q1": both("Rate us 1 to 5."),
    "q2": both("Solved? 1 yes, 2 no."),
}

HEADER = """\
flow: test
numbers: ["+15550000001"]
default: true
languages: [en-US, es-US]
timezone: America/Los_Angeles
start: {start}
human: agents
fallback: {{queue: support}}
queues:
  support: {{skill: support}}
  sales: {{skill: sales}}
hours:
  office:
    timezone: America/Los_Angeles
    weekly: {{mon-fri: "09:00-17:00"}}
    holidays: ["2026-12-25"]
nodes:
  agents:
    type: queue
    queue: support
"""
HEADER_LINES = HEADER.count("\n")


def flow_text(nodes: str, start: str = "main") -> str:
    """Header plus `nodes` (indented under nodes:); line HEADER_LINES + 1 is the first."""
    return HEADER.format(start=start) + textwrap.indent(textwrap.dedent(nodes).strip("\n"),
                                                         "  ") + "\n"


@pytest.fixture
def catalog() -> DictCatalog:
    return DictCatalog(PROMPTS)


@pytest.fixture
def make_flow(catalog: DictCatalog) -> Callable[..., Flow]:
    def make(nodes: str, start: str = "main") -> Flow:
        return load_flow(flow_text(nodes, start), "test.yaml", catalog)
    return make


def event(kind: str = "input", now: datetime = TUESDAY_10AM, **kwargs: Any) -> CallEvent:
    return CallEvent(kind=kind, now=now, **kwargs)  # type: ignore[arg-type]


class Call:
    """Drives one call through a flow: `press`, `say`, `answer`; keeps the last actions."""

    def __init__(self, flow: Flow, now: datetime = TUESDAY_10AM,
                 caller: Mapping[str, str] | None = None,
                 flags: Mapping[str, Any] | None = None) -> None:
        self.flow = flow
        self.now = now
        start = CallEvent("start", now, caller=dict(caller or {"From": "+15551230000"}),
                          data={"flags": dict(flags or {})})
        self.state, self.actions = interpreter.start(flow, start)

    def send(self, ev: CallEvent) -> tuple[Action, ...]:
        self.state, self.actions = interpreter.step(self.flow, self.state, ev)
        return self.actions

    def press(self, digits: str) -> tuple[Action, ...]:
        return self.send(event("input", self.now, digits=digits))

    def say(self, speech: str, confidence: float = 0.9) -> tuple[Action, ...]:
        return self.send(event("input", self.now, speech=speech, confidence=confidence))

    def silence(self) -> tuple[Action, ...]:
        return self.send(event("input", self.now))

    def answer(self, kind: str, **data: Any) -> tuple[Action, ...]:
        return self.send(event(kind, self.now, data=data))

    @property
    def last(self) -> Action:
        return self.actions[-1]

    @property
    def texts(self) -> list[str]:
        from ivr.domain.flow.actions import Gather, Say
        out = []
        for action in self.actions:
            if isinstance(action, Say):
                out.append(action.speech.text)
            elif isinstance(action, Gather):
                out.extend(s.text for s in action.prompts)
        return out

    @property
    def state_(self) -> CallState:
        return self.state
