"""Connecting a waiting caller to the agent a routing job reserved, and what happens after.

The routing job (queue_worker/routing.py) redirects the caller's live call to
`/voice/queue/bridge?agent=&reservation=`; `bridge` answers with a `<Dial>` to the agent
whose `url` (`/voice/queue/whisper`) runs on the agent's leg when they pick up: that marks the
caller connected, records the answered wait and whispers why the caller called. The Dial
`action` (`/voice/queue/dialed`) ends the visit: answered -> the flow resumes with `bridged`
(a survey, usually); not answered -> back in line with the SAME place (QueueService keeps the
virtual start), and the Enqueue is rendered again. A stale request (the reservation expired
and was re-routed) also just goes back to holding. Must not import Flask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.config.metrics import ESTIMATE_ERROR
from ivr.domain import wait_range
from ivr.domain.flow.actions import CallEvent, Speech
from ivr.phone.queue_handoff import QueueHandOff
from ivr.phone.queue_twiml import Prompter, dial_agent, enqueue_again
from ivr.phone.twiml_builder import VoiceResponse
from ivr.store.reservations import ANSWERED_DIAL

log = logging.getLogger(__name__)


@dataclass
class BridgeService:
    handoff: QueueHandOff
    prompter: Prompter
    calls: Any  # ivr.phone.calls.CallService: resumes the flow after the queue

    def bridge(self, call_sid: str, agent_id: str, token: str, now: datetime) -> str:
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        agent = self.handoff.service.bridge_target(call_sid, agent_id, token)
        if agent is None:
            log.info("call %s: stale bridge to %s, back to holding", call_sid, agent_id)
            return enqueue_again(self.prompter.urls, visit.queue, visit.seq)
        cfg = self.handoff.service.config(visit.queue)
        self.handoff.store.mark(call_sid, agent=agent_id, reservation=token)
        urls = self.prompter.urls
        r = VoiceResponse()
        self.prompter.speak(r, "agent_connecting", visit.language)
        dial = r.dial(action=urls.make("/voice/queue/dialed", agent=agent_id, reservation=token),
                      method="POST", timeout=cfg.ring_timeout, answer_on_bridge=True)
        dial_agent(dial, agent.address, urls.make("/voice/queue/whisper", call=call_sid,
                                                  agent=agent_id, reservation=token))
        return str(r)

    def whisper(self, member: str, agent_id: str, token: str, now: datetime) -> str:
        """The agent picked up: the caller is connected now; tell the agent who it is."""
        self.answered(member, agent_id, token, now)
        r = VoiceResponse()
        r.say(self.summary(member), language="en-US")
        return str(r)

    def answered(self, member: str, agent_id: str, token: str, now: datetime) -> None:
        """Record the answer once (the whisper and the Dial action may both report it)."""
        visit = self.handoff.visit(member)
        wait = self.handoff.service.bridge_answered(member, token, now.timestamp())
        if wait is None or visit is None:
            return
        self.handoff.publish("agent_answered", member,
                             {"queue": visit.queue, "agent": agent_id}, now)
        self.handoff.publish("queue_left", member, {"queue": visit.queue, "result": "bridged",
                                                    "wait": round(wait, 1),
                                                    **self.range_outcome(member, wait)}, now)
        self.handoff.stats.answered(visit.queue, wait, now.timestamp())
        told = self.handoff.told(member)
        if told is not None:
            self.handoff.stats.range_outcome(visit.queue, told, wait)
        announced = self.handoff.store.field(member, "announced_wait")
        if announced:
            error = float(announced) - wait
            ESTIMATE_ERROR.observe(error)
            self.handoff.record_estimate_error(visit.queue, error, now)

    def range_outcome(self, member: str, wait: float) -> dict[str, float | bool]:
        """The range the caller was told when they joined and whether `wait` fell inside it,
        for the outcome (issue 15); empty for an entry made before ranges were kept."""
        told = self.handoff.store.field(member, "announced_range")
        try:
            low, high = (float(x) for x in (told or "").split(","))
        except ValueError:
            return {}
        return {"range_low": low, "range_high": high,
                "in_range": wait_range.inside(low, high, round(wait, 1))}

    def summary(self, member: str) -> str:
        """What the agent hears before the caller is put through: queue, reason, what the
        caller already tried by self-service and how long they waited."""
        stored = self.handoff.store.load(member)
        visit = self.handoff.visit(member)
        if stored is None or visit is None:
            return "Incoming call."
        outcome = stored.state.outcome
        reason = (outcome.get("queue") or {}).get("reason") or visit.queue
        words = [f"{visit.queue.capitalize()} call about {reason}."]
        for attempt in outcome.get("self_service", []):
            result = "solved" if attempt.get("solved") else "not solved"
            words.append(f"Self service {attempt.get('task')}: {result}.")
        if stored.state.language != "en-US":
            words.append(f"Caller language {stored.state.language}.")
        return " ".join(words)

    def dialed(self, call_sid: str, agent_id: str, token: str, status: str,
               duration: float | None, now: datetime) -> str:
        """The Dial to the agent ended."""
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        at = now.timestamp()
        if status in ANSWERED_DIAL:
            self.answered(call_sid, agent_id, token, _at(at - (duration or 0)))
        result = self.handoff.service.dial_finished(call_sid, token, status, at, duration)
        if status in ANSWERED_DIAL:
            self.handoff.stats.call_ended(visit.queue, duration or 0.0, at)
            return self._resume(call_sid, visit.seq, "bridged", now)
        if result == "requeued" or self.handoff.service.position(call_sid) is not None:
            note = Speech(self.prompter.text("hold_message", visit.language), visit.language)
            return enqueue_again(self.prompter.urls, visit.queue, visit.seq, before=note)
        return self._resume(call_sid, visit.seq, "error", now)

    def overflow(self, call_sid: str, queue: str, action: str, now: datetime) -> str:
        """A routing job moved the caller out of line by the queue's overflow rule."""
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        self.handoff.publish("queue_left", call_sid,
                             {"queue": visit.queue, "result": "overflow"}, now)
        return self._resume(call_sid, visit.seq, "voicemail", now)

    def _resume(self, call_sid: str, seq: int | None, result: str, now: datetime) -> str:
        if seq is None:
            return str(VoiceResponse())
        event = CallEvent(kind="queue_result", now=now, data={"result": result, "wait": 0})
        answer = self.calls.advance(call_sid, seq, event)
        return answer if answer is not None else str(VoiceResponse())


def _at(epoch: float) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(epoch, UTC)
