"""A call start walked once and told what it read, so that later calls that would read the
same get the same first step without walking the flow again (ivr/phone/first_step_memo.py).

Why: every `POST /voice` walks its flow from the start (a branch on the caller's history, a
greeting, the first menu), and most calls read the same there: a first-time caller, no
operator flag, the line open. Walking was the largest piece of the webhook's own CPU under
load (docs/performance.md, issue 13).

What a start depends on: the interpreter is pure, so its answer is a function of the flow and
of what the walk observed of the event: the call's variables it read (`caller`, `flags`,
`history`, by top-level name; any read of a name counts, however deep it went), the step's
local time when a condition or prompt read `time.*`, and the status of each schedule an
`hours` node asked about (Run.local_time and Run.schedule_status are the only ways a node
reads the clock). The visits' timestamps are the event's time and are put back for each call.
`replay` gives a trace's step to a new event only if the event agrees on every one of those;
a walk that wrote a variable (a `set` node, a survey) is not traced. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ivr.domain.flow.actions import Action, CallEvent, CallState, Visit
from ivr.domain.flow.interpreter import Run, initial_vars, plain_copy, walk
from ivr.domain.flow.model import Flow

ABSENT = object()  # a name the walk read that a new call does not have


@dataclass
class Observed:
    """What a traced walk read of the clock: the local time, and each schedule's status."""

    time: dict[str, Any] | None = None
    schedules: list[tuple[str, str]] = field(default_factory=list)


class ReadLog(dict[str, Any]):
    """A traced start's variables: every top-level name read (by any route: the context, a
    handler, a copy) goes to `read`; any write sets `wrote`."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()
        self.wrote = False

    def _all(self) -> None:
        self.read.update(super().keys())

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        self.read.add(str(name))
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        self._all()
        return super().__iter__()

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def values(self) -> Any:
        self._all()
        return super().values()

    def items(self) -> Any:
        self._all()
        return super().items()

    def copy(self) -> dict[str, Any]:
        self._all()
        return dict(super().items())

    def __setitem__(self, name: str, value: Any) -> None:
        self.wrote = True
        super().__setitem__(name, value)

    def __delitem__(self, name: str) -> None:
        self.wrote = True
        super().__delitem__(name)

    def setdefault(self, name: str, default: Any = None) -> Any:
        self.wrote = True
        return super().setdefault(name, default)

    def pop(self, *args: Any) -> Any:
        self.wrote = True
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self.wrote = True
        return super().popitem()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.wrote = True
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self.wrote = True
        super().clear()


@dataclass(frozen=True)
class StartTrace:
    """A walked call start and what it read; `replay` reuses it for agreeing events."""

    flow: Flow
    names: tuple[tuple[str, Any], ...]  # (top-level name, its value at the start) per read
    time: dict[str, Any] | None          # the local time it read, or None
    schedules: tuple[tuple[str, str], ...]  # (schedule, status) per hours question
    state: CallState
    actions: tuple[Action, ...]


def start_traced(flow: Flow, event: CallEvent,
                 ) -> tuple[CallState, tuple[Action, ...], StartTrace | None]:
    """`interpreter.start(flow, event)`, and its trace (None when the walk wrote a variable,
    so its step is not a function of what it read alone)."""
    log = ReadLog(initial_vars(event))
    observed = Observed()
    run = Run(flow=flow, event=event, language=flow.language, vars=log,
              outcome={"language": flow.language}, path=[], observed=observed)
    walk(run, flow.start)
    read, wrote = frozenset(log.read), log.wrote
    run.vars = dict(dict.items(log))  # the state holds a plain dict, as start's does
    state, actions = run.finish()
    if wrote:
        return state, actions, None
    before = initial_vars(event)
    kept = replace(state, outcome=plain_copy(dict(state.outcome)))  # not the caller's dict
    trace = StartTrace(flow, tuple((name, before.get(name, ABSENT)) for name in sorted(read)),
                       observed.time, tuple(observed.schedules), kept, actions)
    return state, actions, trace


def replay(trace: StartTrace, flow: Flow, event: CallEvent,
           ) -> tuple[CallState, tuple[Action, ...]] | None:
    """The step `interpreter.start(flow, event)` would give, from `trace`, or None when the
    event does not agree with the trace on everything its walk read."""
    if trace.flow is not flow:
        return None
    start_vars = initial_vars(event)
    for name, value in trace.names:
        if start_vars.get(name, ABSENT) != value:
            return None
    if trace.time is not None or trace.schedules:
        run = Run(flow=flow, event=event, language=flow.language, vars=start_vars,
                  outcome={}, path=[])
        if trace.time is not None and run.local_time() != trace.time:
            return None
        if any(run.schedule_status(name) != status for name, status in trace.schedules):
            return None
    kept = trace.state  # built field by field: dataclasses.replace was a tenth of a replay
    state = CallState(flow=kept.flow, version=kept.version, language=kept.language,
                      waiting=kept.waiting, attempts=kept.attempts, vars=start_vars,
                      path=_restamped(kept.path, event), ended=kept.ended,
                      outcome=plain_copy(dict(kept.outcome)))
    return state, trace.actions


def _restamped(path: Iterable[Visit], event: CallEvent) -> tuple[Visit, ...]:
    """The visits at this event's time (a step's visits all carry its time)."""
    at = event.now.isoformat()
    return tuple(Visit(visit.node, at, visit.detail) for visit in path)
