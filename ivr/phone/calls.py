"""The call service: one webhook in, one TwiML document out, with state kept in Redis.

Owns the loop around the pure interpreter: load the call's state, feed it the event, perform
in-process effects (`Lookup`), hand `Enqueue` to the queue engine, store state plus the answer
under its step number (so a retried webhook gets the same TwiML and no side effect twice), and
publish outcome events. Views stay thin; the simulator and tests drive this same service.
Must not import Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from ivr.domain.flow import interpreter
from ivr.domain.flow.actions import Action, CallEvent, CallState, Enqueue, Lookup
from ivr.phone.twiml import AudioLookup, Urls, render
from ivr.store.call_start import OneTripStart, Outcome
from ivr.store.call_state import CallStateStore, StepHold, StoredCall

log = logging.getLogger(__name__)

# Bound on in-process effects per webhook, so a flow that looks up in a loop cannot hang a call.
MAX_EFFECTS_PER_STEP = 5

PublishEvent = Callable[[str, str, Mapping[str, Any], datetime], None]
StartVariables = tuple[Mapping[str, Any], Mapping[str, Any]]  # (flags, history)


class FlowSource(Protocol):
    def reload(self) -> bool: ...
    def reload_if_due(self) -> bool: ...
    def flow_for_number(self, to: str) -> Any: ...
    def flow_by_id(self, flow_id: str) -> Any: ...


class LookupRunner(Protocol):
    def run(self, lookup: Lookup) -> Mapping[str, Any]: ...


class QueueHandOffPort(Protocol):
    """The queue engine as the call service sees it (`ivr/phone/queue_handoff.py` on Redis)."""

    def join(self, call_sid: str, enqueue: Enqueue, caller: Mapping[str, str],
             now: datetime, *, seq: int, language: str) -> str | None:
        """Place the caller in line. Returns None when accepted, else a `queue_result` reason
        (e.g. "queue-full", "closed") that the flow handles instead of enqueueing. `seq` is
        the step whose Enqueue action will resume the flow."""
        ...


class AcceptAll:
    """Queue hand-off used when no queue engine is configured: every caller is accepted."""

    def join(self, call_sid: str, enqueue: Enqueue, caller: Mapping[str, str],
             now: datetime, *, seq: int, language: str) -> str | None:
        return None


@dataclass
class CallService:
    flows: FlowSource
    store: CallStateStore
    urls: Urls
    lookups: LookupRunner
    queues: QueueHandOffPort
    publish: PublishEvent
    audio: AudioLookup | None = None
    start_reads: Callable[[Any, str, datetime], Callable[[list[Any]], StartVariables]] | None = None
    """At the start of each call, by From number: the operator switches (`flags.*`, e.g.
    `emergency_closed`) and what is known of the caller's earlier calls (`history.*`), read
    with the call's own state in one Redis round trip (ivr/store/caller_summary.py
    queue_start_reads); None: no flags, a first-time caller."""
    one_trip: OneTripStart | None = None
    """A new call's first step in one round trip (ivr/store/call_start.py), taken with
    `start_reads`; None (IVR_ONE_TRIP_START=0): always the locked path."""
    start_step: Callable[[Any, CallEvent], tuple[CallState, tuple[Action, ...]]] = (
        interpreter.start)
    """A new call's first step: `interpreter.start`, or the same remembered by what the walk
    read (ivr/phone/first_step_memo.py, IVR_FIRST_STEP_MEMO)."""
    render_twiml: Callable[..., str] = render
    """How a step's actions become TwiML: `render`, or the same with a memory of documents
    (ivr/phone/twiml_memo.py, IVR_TWIML_MEMO)."""

    def start(self, call_sid: str, caller: Mapping[str, str], now: datetime) -> str:
        """Answer the incoming-call webhook (step 0). A retry returns the stored answer."""
        if self.one_trip is not None and self.start_reads is not None:
            answer = self._start_new(self.one_trip, call_sid, caller, now)
            if answer is not None:
                return answer
        reads = self.start_reads
        also = None if reads is None else (
            lambda pipe: reads(pipe, caller.get("From", ""), now))
        with self.store.step(call_sid, 0, also=also) as step:
            if step.answer is not None:
                return step.answer
            self.flows.reload_if_due()  # a few stats at most once a second (IVR_FLOW_CHECK_EVERY);
            # a changed flow is swapped in only if it validates
            flow = self.flows.flow_for_number(caller.get("To", ""))
            flags, history = step.also if step.also is not None else ({}, {})
            event = CallEvent(kind="start", now=now, caller=dict(caller),
                              data={"flags": dict(flags), "history": dict(history)})
            state, actions = self.start_step(flow, event)
            return self._finish(step, flow, None, state, actions, dict(caller), 0, now)

    def _start_new(self, one_trip: OneTripStart, call_sid: str, caller: Mapping[str, str],
                   now: datetime) -> str | None:
        """Step 0 computed from this process's guess of the flags and the caller's summary,
        recorded only if the call is new and the guess still holds (one round trip; see
        ivr/store/call_start.py). A wrong guess is corrected by the reply and the step is
        offered once more. None when it does not apply (the call is known or locked, the
        first step joins a queue or looks something up, anything failed before the write):
        nothing was written and the locked path answers, as it always did."""
        for _ in range(2):
            guess = one_trip.guess(caller.get("From", ""), now)
            try:
                step = self._first_step(call_sid, caller, now, guess.flags, guess.history)
            except Exception:  # noqa: BLE001 - the locked path answers: a retry from its
                return None    # store, else the same error, logged, and the fallback route
            if step is None:
                return None
            stored, twiml, events = step
            outcome = one_trip.record(call_sid, stored, twiml, events, guess)
            if outcome is Outcome.RECORDED:
                return twiml
            if outcome is Outcome.LOCKED_PATH:
                return None
        return None

    def _first_step(self, call_sid: str, caller: Mapping[str, str], now: datetime,
                    flags: Mapping[str, Any], history: Mapping[str, Any],
                    ) -> tuple[StoredCall, str, list[tuple[str, dict[str, Any], float]]] | None:
        """Step 0 as the locked path computes it, without its effects (None when the step
        ends in a lookup or a queue join)."""
        self.flows.reload_if_due()
        flow = self.flows.flow_for_number(caller.get("To", ""))
        event = CallEvent(kind="start", now=now, caller=dict(caller),
                          data={"flags": dict(flags), "history": dict(history)})
        state, actions = self.start_step(flow, event)
        effects = self._run_effects(call_sid, flow, state, actions, dict(caller), now, 1,
                                    may_join=False)
        if effects is None:
            return None
        twiml, events = self._answer(None, *effects, dict(caller), 0, now)
        return StoredCall(effects[0], 1, dict(caller)), twiml, events

    def advance(self, call_sid: str, seq: int, event: CallEvent) -> str | None:
        """Answer a callback for step `seq`. None means the call is unknown (expired or forged
        step number): the view answers with the fallback route."""
        answer = self._advance_known(call_sid, seq, event)
        if answer is not None:
            return answer
        with self.store.step(call_sid, seq) as step:
            stored = step.stored
            if stored is None:
                return None
            if seq < stored.seq:
                return step.answer  # Twilio retried: same answer
            if seq > stored.seq:
                return None
            flow = self.flows.flow_by_id(stored.state.flow)
            event = replace(event, caller=stored.caller)
            state, actions = interpreter.step(flow, stored.state, event)
            return self._finish(step, flow, stored.state, state, actions, stored.caller, seq,
                                event.now)

    def _advance_known(self, call_sid: str, seq: int, event: CallEvent) -> str | None:
        """The step without the call's lock, from the state this process wrote last (most of a
        call's webhooks come back to the process that answered the one before): one Redis
        round trip instead of two. None when it does not apply (another process or a retry
        moved the call on, the step joins a queue, which needs the lock), and then nothing
        was written: the locked path answers. See CallStateStore.commit_if_current."""
        stored = self.store.recent(call_sid)
        if stored is None or stored.seq != seq:
            return None
        flow = self.flows.flow_by_id(stored.state.flow)
        event = replace(event, caller=stored.caller)
        state, actions = interpreter.step(flow, stored.state, event)
        effects = self._run_effects(call_sid, flow, state, actions, stored.caller, event.now,
                                    seq + 1, may_join=False)
        if effects is None:
            return None
        twiml, events = self._answer(stored.state, *effects, stored.caller, seq, event.now)
        if self.store.commit_if_current(call_sid, StoredCall(effects[0], seq + 1, stored.caller),
                                        seq, twiml, events):
            return twiml
        return None

    def _finish(self, step: StepHold, flow: Any, before: CallState | None, state: CallState,
                actions: tuple[Action, ...], caller: dict[str, str], seq: int,
                now: datetime) -> str:
        call_sid = step.call_sid
        next_seq = seq + 1
        effects = self._run_effects(call_sid, flow, state, actions, caller, now, next_seq)
        assert effects is not None  # may_join: never None
        state, actions = effects
        twiml, events = self._answer(before, state, actions, caller, seq, now)
        self.store.save(call_sid, StoredCall(state, next_seq, caller), seq, twiml, events,
                        step=step)
        return twiml

    def _answer(self, before: CallState | None, state: CallState, actions: tuple[Action, ...],
                caller: dict[str, str], seq: int, now: datetime,
                ) -> tuple[str, list[tuple[str, dict[str, Any], float]]]:
        """The step's TwiML and outcome events (kind, data, epoch seconds)."""
        at = now.timestamp()
        events = [(kind, data, at) for kind, data in outcome_events(before, state)]
        if before is None:
            events.insert(0, ("call_started", {
                "caller": caller.get("From", ""), "dialed": caller.get("To", ""),
                "flow": state.flow, "flow_version": str(state.version)}, at))
        return (self.render_twiml(actions, self.urls, seq + 1, self.audio, state.language),
                events)

    def _run_effects(self, call_sid: str, flow: Any, state: CallState,
                     actions: tuple[Action, ...], caller: dict[str, str],
                     now: datetime, seq: int, may_join: bool = True,
                     ) -> tuple[CallState, tuple[Action, ...]] | None:
        """Perform in-process effects until the step ends in something Twilio must do.
        Without `may_join` (a step taken without the call's lock) it returns None at the first
        effect instead: joining a queue writes, and a lookup can take its whole timeout, which
        must not be spent twice when the locked path then has to answer (a lookup that fails
        over to a queue node did exactly that, so the caller waited two timeouts)."""
        spoken: tuple[Action, ...] = ()
        for _ in range(MAX_EFFECTS_PER_STEP):
            if not actions:
                break
            last = actions[-1]
            if isinstance(last, Lookup | Enqueue) and not may_join:
                return None
            if isinstance(last, Lookup):
                result = self.lookups.run(last)
                event = CallEvent(kind="lookup_result", now=now, caller=caller, data=result)
            elif isinstance(last, Enqueue):
                refused = self.queues.join(call_sid, last, caller, now,
                                           seq=seq, language=state.language)
                if refused is None:
                    break
                event = CallEvent(kind="queue_result", now=now, caller=caller,
                                  data={"result": refused, "wait": 0})
            else:
                break
            spoken += actions[:-1]
            state, actions = interpreter.step(flow, state, event)
        else:
            raise RuntimeError(f"call {call_sid}: more than {MAX_EFFECTS_PER_STEP} effects")
        return state, spoken + actions


def outcome_events(before: CallState | None,
                   after: CallState) -> list[tuple[str, dict[str, Any]]]:
    """The outcome events one step produced: its node visits (one event for all of them: a
    step often passes three or four nodes, and each event is one more entry to append and
    write), inputs, self-service attempts and survey answers, found by comparing the state
    before and after (the interpreter keeps them in `path` and `outcome`; see
    ivr/domain/flow/interpreter.py)."""
    old_path = before.path if before else ()
    old = before.outcome if before else {}
    visits = after.path[len(old_path):]
    events: list[tuple[str, dict[str, Any]]] = []
    if visits:
        events.append(("nodes_visited", {"nodes": [v.node for v in visits],
                                         "details": [v.detail for v in visits]}))
    for key, kind in (("inputs", "input"), ("self_service", "self_service")):
        for item in after.outcome.get(key, [])[len(old.get(key, [])):]:
            events.append((kind, {k: v for k, v in item.items() if v is not None}))
    old_survey = old.get("survey", {})
    for question, answer in after.outcome.get("survey", {}).items():
        if question not in old_survey:
            data: dict[str, Any] = {"question": question,
                                    "answer": "" if answer is None else str(answer)}
            if isinstance(answer, int) and not isinstance(answer, bool):
                data["score"] = answer
            events.append(("survey_answer", data))
    return events
