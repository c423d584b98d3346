"""Run a call through a flow: `start(flow, event)` and `step(flow, state, event)`.

Each call returns a new `CallState` and the actions for the adapter (see `actions.py`). The
interpreter walks non-waiting nodes (say, set, branch, hours, goto) until a node waits for the
outside world, records every visit in `state.path`, and keeps `state.outcome`:

    language        the call's language (a language menu option changes it)
    self_service    [{node, task, solved}] from nodes marked `resolves:` (solved) or `fails:`
    inputs          [{node, digits} | {node, speech, confidence}] what the caller pressed/said
    survey          {question id: 1-5 | "yes" | "no" | None (no valid answer)}
    queue           {queue, skill, reason, node} of the last hand-over; queue_result its end
    voicemail / transfer   what those nodes returned
    errors          internal failures that sent the caller to the fallback
    end             why the call ended (hangup reason, "answered", "caller_hangup", ...)

Failure policy: anything unexpected (a node id that vanished with a flow edit, an event of the
wrong kind, bad data in a lookup record, more than MAX_HOPS nodes without waiting) is noted in
`outcome["errors"]`, the caller hears the `technical_difficulty` prompt and goes to the flow's
`fallback` (a queue or voicemail). A caller is never left in silence. Pure: time comes from
`event.now`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ivr.domain import hours
from ivr.domain.caller_history import FIRST_TIME
from ivr.domain.flow import handlers
from ivr.domain.flow.actions import Action, CallEvent, CallState, Hangup, Say, Speech, Visit
from ivr.domain.flow.model import FALLBACK, Flow, Node, Prompt
from ivr.domain.flow.step_context import StepContext
from ivr.domain.flow.templating import render

if TYPE_CHECKING:
    from ivr.domain.flow.start_trace import Observed

MAX_HOPS = 50
"""Nodes walked in one step without waiting before the loop guard sends the call to fallback.
The validator rejects silent loops, so this only trips on a loop through branch conditions
that never change, or a flow longer than any sane menu tree."""

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ERRORS = (KeyError, ValueError, TypeError, AttributeError, LookupError)


@dataclass
class Run:
    """The working copy of a call during one step; `finish()` freezes it into a CallState."""

    flow: Flow
    event: CallEvent
    language: str
    vars: dict[str, Any]
    outcome: dict[str, Any]
    path: list[Visit]
    attempts: int = 0
    waiting: str | None = None
    ended: bool = False
    failed: bool = False
    actions: list[Action] = field(default_factory=list)
    _time: dict[str, Any] | None = field(default=None, repr=False)
    _at: str | None = field(default=None, repr=False)  # event.now in ISO form, for visits
    _context: StepContext | None = field(default=None, repr=False)
    observed: Observed | None = field(default=None, repr=False)
    """Set for a traced call start (start_trace.py): the step's time and schedules it read."""

    # -- speaking ------------------------------------------------------------------------------

    def speech(self, prompts: Sequence[Prompt]) -> tuple[Speech, ...]:
        context = self.context()
        language = self.language
        out = []
        for prompt in prompts:
            template = prompt.texts.get(language) or next(iter(prompt.texts.values()))
            out.append(Speech(render(template, context, language), language, prompt.prompt_id))
        return tuple(out)

    def say(self, prompts: Sequence[Prompt]) -> None:
        self.actions.extend(Say(s) for s in self.speech(prompts))

    def system(self, name: str) -> tuple[Prompt, ...]:
        return self.flow.prompts.get(name, ())

    # -- bookkeeping ---------------------------------------------------------------------------

    def visit(self, node_id: str, detail: str = "") -> None:
        """Record a node visit at the step's time (formatted once per step: a call start
        visits three or four nodes)."""
        if self._at is None:
            self._at = self.event.now.isoformat()
        self.path.append(Visit(node_id, self._at, detail))

    def note(self, key: str, value: Any) -> None:
        """Append to an outcome list (lists are copied per step, so states never share)."""
        self.outcome[key] = [*self.outcome.get(key, []), value]

    def wait(self, node: Node, action: Action) -> None:
        self.actions.append(action)
        self.waiting = node.id

    def end(self, reason: str) -> None:
        self.actions.append(Hangup(reason))
        self.outcome["end"] = reason
        self.waiting, self.ended = None, True

    def context(self) -> StepContext:
        """What conditions and templates may read (see validator.BUILT_IN_NAMES), as a live
        view of this step (ivr/domain/flow/step_context.py); one per step."""
        if self._context is None:
            self._context = StepContext(self)
        return self._context

    def local_time(self) -> dict[str, Any]:
        """The step's time in the flow's timezone: the event's time, the same all step long,
        so it is worked out once per step (a step reads the context several times: every
        prompt and condition; the call-start webhook four times)."""
        if self._time is None:
            local = self.event.now.astimezone(ZoneInfo(self.flow.timezone))
            self._time = {"hour": local.hour, "minute": local.minute,
                          "weekday": _DAYS[local.weekday()], "date": local.date().isoformat(),
                          "time": local.strftime("%H:%M")}
        if self.observed is not None:
            self.observed.time = self._time
        return self._time

    def schedule_status(self, name: str) -> hours.Status:
        """Whether the flow's schedule `name` is open at the step's time, with the call's
        flags (ivr/domain/hours.py). Nodes read the clock only through this and `local_time`,
        so a traced start knows when its walk depended on the time."""
        status = hours.status(self.flow.schedules[name], self.event.now,
                              self.vars.get("flags") or {})
        if self.observed is not None:
            self.observed.schedules.append((name, status))
        return status

    def finish(self, state: CallState | None = None) -> tuple[CallState, tuple[Action, ...]]:
        new = CallState(
            flow=self.flow.id, version=state.version if state else self.flow.version,
            language=self.language, waiting=self.waiting, attempts=self.attempts,
            vars=self.vars, path=tuple(self.path), ended=self.ended, outcome=self.outcome)
        return new, tuple(self.actions)


def start(flow: Flow, event: CallEvent) -> tuple[CallState, tuple[Action, ...]]:
    """Answer a new call: caller data goes to `vars["caller"]`, operator flags (for example
    `emergency_closed`) from `event.data["flags"]` to `vars["flags"]`, and what is known of the
    caller's earlier calls from `event.data["history"]` to `vars["history"]` (first-time
    values when absent; see ivr/domain/caller_history.py)."""
    run = Run(flow=flow, event=event, language=flow.language, vars=initial_vars(event),
              outcome={"language": flow.language}, path=[])
    walk(run, flow.start)
    return run.finish()


def initial_vars(event: CallEvent) -> dict[str, Any]:
    """A new call's variables, before its first node: the caller, the flags, the history."""
    return {"caller": dict(event.caller), "flags": dict(event.data.get("flags") or {}),
            "history": {**FIRST_TIME, **dict(event.data.get("history") or {})}}


def plain_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, tuples, scalars), so a step never
    mutates the state it was given; several times cheaper than copy.deepcopy, which was a
    twentieth of a webhook. Anything else goes through deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: plain_copy(v) for k, v in value.items()}
    if kind is list:
        return [plain_copy(v) for v in value]
    if kind is tuple:
        return tuple(plain_copy(v) for v in value)
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def step(flow: Flow, state: CallState, event: CallEvent) -> tuple[CallState, tuple[Action, ...]]:
    """Feed the answer to the node the call waits on, then walk on to the next wait."""
    run = Run(flow=flow, event=event, language=state.language,
              vars=plain_copy(dict(state.vars)), outcome=plain_copy(dict(state.outcome)),
              path=list(state.path), attempts=state.attempts, waiting=None)
    if state.ended:
        run.ended = True
        run.actions.append(Hangup(state.outcome.get("end", "completed")))
        return run.finish(state)
    node = flow.nodes.get(state.waiting or "")
    if node is None or not node.waits:
        fail(run, f"waiting node {state.waiting!r} is not in flow {flow.id} "
                  f"(version {flow.version}, call started on {state.version})")
        return run.finish(state)
    try:
        target = handlers.resume(run, node, event)
    except _ERRORS as exc:
        fail(run, f"{node.id}: {type(exc).__name__}: {exc}")
        return run.finish(state)
    if target is not None:
        walk(run, target)
    return run.finish(state)


def walk(run: Run, node_id: str) -> None:
    """Enter nodes from `node_id` until one waits or ends the call; guard against loops."""
    for _ in range(MAX_HOPS):
        node = run.flow.nodes.get(node_id)
        if node is None:
            fail(run, f"unknown node {node_id!r}")
            return
        run.attempts = 0
        try:
            next_id = handlers.enter(run, node)
        except _ERRORS as exc:
            fail(run, f"{node.id}: {type(exc).__name__}: {exc}")
            return
        if next_id is None:
            return
        node_id = next_id
    fail(run, f"loop guard: {MAX_HOPS} nodes without waiting for the caller (at {node_id})")


def fail(run: Run, reason: str) -> None:
    """Apologise and hand the caller to the fallback; a second failure hangs up politely."""
    run.note("errors", reason)
    run.visit("_error", reason)
    if run.failed:
        run.end("error")
        return
    run.failed = True
    run.say(run.system("technical_difficulty"))
    walk(run, FALLBACK)
