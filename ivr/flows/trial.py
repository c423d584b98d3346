"""A test call against a draft flow, for the admin editor: what the caller hears, turn by turn.

Runs the pure interpreter in-process on a `Flow` the editor has not published, so nothing
touches live call state (no Redis keys, no queue, no outcome events). It is stateless on
purpose: the browser sends the draft and every answer so far, and the call is replayed from
the start with a fixed clock, which gives the same result each time and needs no session
store. Self-service lookups run against the configured sources (read-only CSV/HTTP), a queue,
voicemail or transfer ends the trial with a line saying what would happen. Must not import
Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.domain.flow import interpreter
from ivr.domain.flow.actions import (
    Action,
    CallEvent,
    CallState,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Lookup,
    Record,
    Say,
)
from ivr.domain.flow.model import Flow

MAX_ANSWERS = 60
MAX_EFFECTS = 5
RunLookup = Callable[[Lookup], Mapping[str, Any]]


@dataclass
class Turn:
    """One turn of the trial: what was said, then what the call waits for."""

    heard: list[str] = field(default_factory=list)
    waits_for: str = ""  # "keys", "ended", or what would happen in a live call
    node: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"heard": self.heard, "waits_for": self.waits_for, "node": self.node}


def run_trial(flow: Flow, answers: Sequence[Mapping[str, str]], now: datetime,
              caller: Mapping[str, str], lookup: RunLookup,
              flags: Mapping[str, str] | None = None) -> list[Turn]:
    """Replay the call: start, then each answer (`{"digits": "1"}`, `{"speech": "..."}` or
    `{}` for silence). Returns one Turn per step; answers after the call ended are ignored."""
    event = CallEvent(kind="start", now=now, caller=dict(caller),
                      data={"flags": dict(flags or {})})
    state, actions = interpreter.start(flow, event)
    state, actions = _effects(flow, state, actions, now, caller, lookup)
    turns = [_turn(state, actions)]
    for answer in list(answers)[:MAX_ANSWERS]:
        if state.ended or turns[-1].waits_for != "keys":
            break
        digits = "".join(ch for ch in str(answer.get("digits", "")) if ch in "0123456789*#")
        speech = str(answer.get("speech", "")).strip()[:200]
        event = CallEvent(kind="input", now=now, caller=dict(caller), digits=digits or None,
                          speech=speech or None, confidence=0.9 if speech else None)
        state, actions = interpreter.step(flow, state, event)
        state, actions = _effects(flow, state, actions, now, caller, lookup)
        turns.append(_turn(state, actions))
    return turns


def _effects(flow: Flow, state: CallState, actions: tuple[Action, ...], now: datetime,
             caller: Mapping[str, str], lookup: RunLookup,
             ) -> tuple[CallState, tuple[Action, ...]]:
    """Perform lookups in-process (as the call service does); anything else waits."""
    spoken: tuple[Action, ...] = ()
    for _ in range(MAX_EFFECTS):
        if not actions or not isinstance(actions[-1], Lookup):
            break
        result = lookup(actions[-1])
        spoken += actions[:-1]
        state, actions = interpreter.step(flow, state, CallEvent(
            kind="lookup_result", now=now, caller=dict(caller), data=dict(result)))
    return state, spoken + actions


def _turn(state: CallState, actions: tuple[Action, ...]) -> Turn:
    turn = Turn(node=state.waiting)
    for action in actions:
        if isinstance(action, Say):
            turn.heard.append(action.speech.text)
        elif isinstance(action, Gather):
            turn.heard.extend(p.text for p in action.prompts)
    turn.waits_for = _waits_for(actions[-1] if actions else None, state)
    return turn


def _waits_for(last: Action | None, state: CallState) -> str:
    if isinstance(last, Gather):
        return "keys"
    if isinstance(last, Enqueue):
        return f"joins queue {last.queue!r} (skill {last.skill or last.queue}) for an agent"
    if isinstance(last, Record):
        return f"records a voicemail for mailbox {last.mailbox!r}"
    if isinstance(last, Dial):
        return f"is transferred to {last.number}"
    if isinstance(last, Hangup) or state.ended:
        return "ended"
    return "ended"
