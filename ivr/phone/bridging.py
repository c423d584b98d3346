"""Connecting a waiting caller to the agent a routing job reserved, and what happens after.

The routing job (queue_worker/routing.py) redirects the caller's live call to
`/voice/queue/bridge?agent=&reservation=`; `bridge` puts the caller in their conference
(`cf-<CallSid>`, docs/agent-floor.md) and has a job ring the agent (queue_worker/floor.py).
The agent's leg answering (`/voice/floor/agent`, ivr/phone/floor_legs.py) marks the caller
connected with `answered` (the answered wait, stats, events) and tells the agent who it is
(`summary`). The caller's Dial `action` (`/voice/queue/dialed`) fires when the conference
ends: answered (read from the floor state) -> the flow resumes with `bridged` (a survey,
usually); never answered -> back in line with the SAME place (QueueService keeps the virtual
start). A ring that is not answered redirects the caller to `back`, which puts them in line
again. A stale request (the reservation expired and was re-routed) also just goes back to
holding. `whisper` is the agent leg of the plain `<Dial>` bridge that came before
conferences, kept for calls in flight across an upgrade. Must not import Flask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.config.metrics import ESTIMATE_ERROR
from ivr.domain import wait_range
from ivr.domain.floor import Leg
from ivr.domain.flow.actions import CallEvent, Speech
from ivr.phone.floor_twiml import caller_conference
from ivr.phone.queue_handoff import QueueHandOff
from ivr.phone.queue_twiml import Prompter, enqueue_again
from ivr.phone.twiml_builder import VoiceResponse
from ivr.store import keys
from ivr.store.floor import FloorStore
from ivr.store.jobs import FloorJobs
from ivr.store.reservations import ANSWERED_DIAL
from ivr.store.scripts import text

log = logging.getLogger(__name__)


@dataclass
class BridgeService:
    handoff: QueueHandOff
    prompter: Prompter
    calls: Any  # ivr.phone.calls.CallService: resumes the flow after the queue
    floor: FloorStore
    jobs: FloorJobs
    recording: Any = None  # ivr.phone.floor_recording.FloorRecording (recorded agent calls)

    def bridge(self, call_sid: str, agent_id: str, token: str, now: datetime) -> str:
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        agent = self.handoff.service.bridge_target(call_sid, agent_id, token)
        if agent is None:
            log.info("call %s: stale bridge to %s, back to holding", call_sid, agent_id)
            return enqueue_again(self.prompter.urls, visit.queue, visit.seq)
        self.handoff.store.mark(call_sid, agent=agent_id, reservation=token)
        joined, priority = self.handoff.service.conn.hmget(
            keys.queue_entry(call_sid), ["joined_at", "priority"])
        first = self.floor.field(call_sid, "first_joined") or text(joined) or ""
        self.floor.create(call_sid, visit.queue, agent=agent_id, reservation=token,
                          first_joined=first, priority=text(priority) or "0")
        self.floor.add_leg(call_sid, Leg(call_sid, "caller", "caller", "joined",
                                         since=now.timestamp()))
        urls = self.prompter.urls
        r = VoiceResponse()
        if self.recording is not None:  # the queue records agent calls: the caller is told
            self.recording.speak_notice(r, visit.queue, visit.language)
        self.prompter.speak(r, "agent_connecting", visit.language)
        caller_conference(r, urls, call_sid, urls.make("/voice/queue/dialed", agent=agent_id,
                                                       reservation=token))
        self.jobs.ring_agent(call_sid, agent_id, token)
        return str(r)

    def whisper(self, member: str, agent_id: str, token: str, now: datetime) -> str:
        """The agent picked up: the caller is connected now; tell the agent who it is."""
        self.answered(member, agent_id, token, now)
        r = VoiceResponse()
        r.say(self.summary(member), language="en-US")
        return str(r)

    def answered(self, member: str, agent_id: str, token: str, now: datetime) -> bool:
        """Record the answer once (the agent's leg and the Dial action may both report it).
        False when there is nothing to connect (the caller left, or the token is stale)."""
        visit = self.handoff.visit(member)
        wait = self.handoff.service.bridge_answered(member, token, now.timestamp())
        if wait is None or visit is None:
            return False
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
        return True

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
               duration: float | None, now: datetime, call_status: str = "") -> str:
        """The caller's Dial ended: their conference ended (or, for a plain Dial bridge, the
        agent's leg did). Whether an agent answered is read from the floor state.
        `call_status` is the request's CallStatus: `completed` means the caller hung up in
        the conference (Twilio still requests the action); an agent leaving ends the
        conference with the caller's call in progress, on to the flow."""
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        at = now.timestamp()
        floor = self.floor.load(call_sid)
        if floor is not None:
            answered = any(p.since for p in floor.legs if p.role in ("agent", "consult"))
            status = "completed" if answered else "no-answer"
            if answered and call_status == "completed":
                self._caller_hung_up(call_sid, floor.legs, now)
        if status in ANSWERED_DIAL:
            self.answered(call_sid, agent_id, token, _at(at - (duration or 0)))
        result = self.handoff.service.dial_finished(call_sid, token, status, at, duration)
        if status in ANSWERED_DIAL:
            self.handoff.stats.call_ended(visit.queue, duration or 0.0, at)
            return self._resume(call_sid, visit.seq, "bridged", now)
        return self.back(call_sid, now, result)

    def _caller_hung_up(self, call_sid: str, legs: tuple[Leg, ...], now: datetime) -> None:
        """File `caller_hung_up` with the agent who had the call: the last agent-role leg
        that answered (a transfer's target takes the call over). Read from the legs' order,
        not their status: the agents' own leaves race this request when the room ends."""
        had = [p.who for p in legs if p.role == "agent" and p.since]
        self.handoff.publish("caller_hung_up", call_sid,
                             {"agent": had[-1]} if had else {}, now)

    def back(self, call_sid: str, now: datetime, result: str = "") -> str:
        """The caller goes back in line after a ring nobody answered (the reservation is
        already released: they keep their place), or on with the flow if they are out."""
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        if result == "requeued" or self.handoff.service.position(call_sid) is not None:
            note = Speech(self.prompter.text("hold_message", visit.language), visit.language)
            return enqueue_again(self.prompter.urls, visit.queue, visit.seq, before=note)
        return self._resume(call_sid, visit.seq, "error", now)

    def requeue(self, call_sid: str, queue: str, now: datetime) -> str:
        """A transfer to `queue` (the console's cold transfer): the caller joins it with the
        arrival time of their first queue visit in this call and the higher of the two
        priorities (docs/agent-floor.md, the place rule); the agent's visit ends as when
        they hang up (their after-call work starts)."""
        visit = self.handoff.visit(call_sid)
        if visit is None:
            return str(VoiceResponse())
        at = now.timestamp()
        self.handoff.service.call_ended(call_sid, at)
        first_ms = self.floor.field(call_sid, "first_joined")
        first = int(first_ms) / 1000 if first_ms.isdigit() else at
        mine = self.floor.field(call_sid, "priority")
        # queues.yaml gives a queue no priority of its own (0): the caller keeps theirs
        priority = int(mine) if mine.isdigit() else 0
        result = self.handoff.service.join(call_sid, queue, first, priority=priority)
        if not result.accepted:
            log.warning("call %s: transfer to %s refused (%s)", call_sid, queue, result.reason)
            return self._resume(call_sid, visit.seq, "error", now)
        self.handoff.store.mark(call_sid, queue=queue, agent="", queue_exit="")
        self.handoff.publish("queue_joined", call_sid, {"queue": queue,
                                                        "position": result.position}, now)
        note = Speech(self.prompter.text("hold_message", visit.language), visit.language)
        return enqueue_again(self.prompter.urls, queue, visit.seq, before=note)

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
