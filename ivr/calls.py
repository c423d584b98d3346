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
from ivr.store.call_state import CallStateStore, StoredCall
from ivr.twiml import AudioLookup, Urls, render

log = logging.getLogger(__name__)

# Bound on in-process effects per webhook, so a flow that looks up in a loop cannot hang a call.
MAX_EFFECTS_PER_STEP = 5

PublishEvent = Callable[[str, str, Mapping[str, Any], datetime], None]


class FlowSource(Protocol):
    def flow_for_number(self, to: str) -> Any: ...
    def flow_by_id(self, flow_id: str) -> Any: ...


class LookupRunner(Protocol):
    def run(self, lookup: Lookup) -> Mapping[str, Any]: ...


class QueueHandOff(Protocol):
    """The queue engine as the call service sees it (issue 4 implements it on Redis)."""

    def join(self, call_sid: str, enqueue: Enqueue, caller: Mapping[str, str],
             now: datetime) -> str | None:
        """Place the caller in line. Returns None when accepted, else a `queue_result` reason
        (e.g. "queue-full", "closed") that the flow handles instead of enqueueing."""
        ...


class AcceptAll:
    """Queue hand-off used when no queue engine is configured: every caller is accepted."""

    def join(self, call_sid: str, enqueue: Enqueue, caller: Mapping[str, str],
             now: datetime) -> str | None:
        return None


@dataclass
class CallService:
    flows: FlowSource
    store: CallStateStore
    urls: Urls
    lookups: LookupRunner
    queues: QueueHandOff
    publish: PublishEvent
    audio: AudioLookup | None = None

    def start(self, call_sid: str, caller: Mapping[str, str], now: datetime) -> str:
        """Answer the incoming-call webhook (step 0). A retry returns the stored answer."""
        with self.store.locked(call_sid):
            existing = self.store.answer(call_sid, 0)
            if existing is not None:
                return existing
            flow = self.flows.flow_for_number(caller.get("To", ""))
            event = CallEvent(kind="start", now=now, caller=dict(caller))
            state, actions = interpreter.start(flow, event)
            self.publish("call_started", call_sid, {
                "from": caller.get("From", ""), "to": caller.get("To", ""),
                "flow": state.flow, "version": state.version,
            }, now)
            return self._finish(call_sid, flow, state, actions, dict(caller), 0, now, before=0)

    def advance(self, call_sid: str, seq: int, event: CallEvent) -> str | None:
        """Answer a callback for step `seq`. None means the call is unknown (expired or forged
        step number): the view answers with the fallback route."""
        with self.store.locked(call_sid):
            stored = self.store.load(call_sid)
            if stored is None:
                return None
            if seq < stored.seq:
                return self.store.answer(call_sid, seq)  # Twilio retried: same answer
            if seq > stored.seq:
                return None
            flow = self.flows.flow_by_id(stored.state.flow)
            event = replace(event, caller=stored.caller)
            state, actions = interpreter.step(flow, stored.state, event)
            return self._finish(call_sid, flow, state, actions, stored.caller, seq, event.now,
                                before=len(stored.state.path))

    def _finish(self, call_sid: str, flow: Any, state: CallState, actions: tuple[Action, ...],
                caller: dict[str, str], seq: int, now: datetime, before: int) -> str:
        state, actions = self._run_effects(call_sid, flow, state, actions, caller, now)
        next_seq = seq + 1
        self._publish_visits(call_sid, state, before, now)
        twiml = render(actions, self.urls, next_seq, self.audio, state.language)
        self.store.save(call_sid, StoredCall(state, next_seq, caller), seq, twiml)
        return twiml

    def _run_effects(self, call_sid: str, flow: Any, state: CallState,
                     actions: tuple[Action, ...], caller: dict[str, str],
                     now: datetime) -> tuple[CallState, tuple[Action, ...]]:
        """Perform in-process effects until the step ends in something Twilio must do."""
        spoken: tuple[Action, ...] = ()
        for _ in range(MAX_EFFECTS_PER_STEP):
            if not actions:
                break
            last = actions[-1]
            if isinstance(last, Lookup):
                result = self.lookups.run(last)
                event = CallEvent(kind="lookup_result", now=now, caller=caller, data=result)
            elif isinstance(last, Enqueue):
                refused = self.queues.join(call_sid, last, caller, now)
                if refused is None:
                    self.publish("queue_joined", call_sid, {
                        "queue": last.queue, "skill": last.skill, "priority": last.priority,
                        "reason": last.reason}, now)
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

    def _publish_visits(self, call_sid: str, state: CallState, before: int,
                        now: datetime) -> None:
        for index, visit in enumerate(state.path[before:], start=before):
            self.publish("node_visited", call_sid,
                         {"node": visit.node, "at": visit.at, "detail": visit.detail,
                          "index": index}, now)
