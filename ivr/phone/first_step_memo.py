"""Call starts remembered by what their walk read (IVR_FIRST_STEP_MEMO): a new call whose
caller variables, time and schedules agree with an earlier start's on everything that start's
walk read gets its step without walking the flow (ivr/domain/flow/start_trace.py says what a
start depends on and why this gives the walk's own answer).

Why: walking the flow was the largest piece of `POST /voice`'s own CPU under load (issue 13,
docs/performance.md), and most starts read the same: a first-time caller's history, no flag,
the same hours. Each flow keeps its `size` most recently used traces (a trace that answers
moves to the front; a new one pushes out the oldest); traces of a replaced flow version are
never used again and go when their flow's list is dropped, at most `MAX_FLOWS` flows.
`size` 0: every start walks. Thread-safe: lists are replaced whole, never changed in place.
Must not import Flask or Redis.
"""

from __future__ import annotations

import threading

from ivr.domain.flow.actions import Action, CallEvent, CallState
from ivr.domain.flow.interpreter import start
from ivr.domain.flow.model import Flow
from ivr.domain.flow.start_trace import StartTrace, replay, start_traced

MAX_FLOWS = 64  # flow versions with traces at once; past it every list starts again empty


class FirstStepMemo:
    """`memo(flow, event)` is exactly `interpreter.start(flow, event)`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._traces: dict[int, tuple[StartTrace, ...]] = {}  # by id(flow), newest first
        self._lock = threading.Lock()
        self.walked = 0    # starts that walked the flow (tests and benchmarks read these)
        self.replayed = 0  # starts answered from a trace

    def __call__(self, flow: Flow, event: CallEvent) -> tuple[CallState, tuple[Action, ...]]:
        if not self.size:
            return start(flow, event)
        traces = self._traces.get(id(flow), ())
        for trace in traces:
            got = replay(trace, flow, event)
            if got is not None:
                self.replayed += 1
                if trace is not traces[0]:
                    self._keep(flow, trace)
                return got
        self.walked += 1
        state, actions, walked = start_traced(flow, event)
        if walked is not None:
            self._keep(flow, walked)
        return state, actions

    def _keep(self, flow: Flow, trace: StartTrace) -> None:
        """Put `trace` first in its flow's list, which keeps `size` traces at most."""
        with self._lock:
            if len(self._traces) >= MAX_FLOWS and id(flow) not in self._traces:
                self._traces = {}
            rest = tuple(t for t in self._traces.get(id(flow), ()) if t is not trace)
            self._traces[id(flow)] = (trace, *rest)[:self.size]
