"""The agent floor's webhooks (docs/agent-floor.md, "Webhooks we answer"): the conference's
wait and hold audio, an agent-side leg answering and leaving, its ring's status callback and
the conference's status callback.

Owns the floor state's life after the bridge (ivr/store/floor.py) and the events that go with
it: `agent_missed` for a ring nobody took, `agent_left` (talk and hold seconds) when the agent
leaves, the end of the conference once no agent-side leg is left or ringing. Every REST call
these cause is a job (ivr/store/jobs.py FloorJobs): a webhook never waits on Twilio. Must not
import Flask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ivr.domain.errors import NotFound
from ivr.domain.floor import AGENT_SIDE, Floor, Leg, needs_end, resumed
from ivr.domain.queueing import Presence
from ivr.phone.bridging import BridgeService
from ivr.phone.floor_twiml import leg_conference
from ivr.phone.hold_audio import HoldAudio
from ivr.phone.twiml_builder import VoiceResponse

log = logging.getLogger(__name__)
MISSED = ("no-answer", "busy", "failed", "canceled")


@dataclass
class FloorLegs:
    bridging: BridgeService
    audio: HoldAudio | None = None
    hold_pause: int = 15  # IVR_HOLD_PAUSE: one wait/hold document's length without music
    # ivr.phone.callback_legs.CallbackLegs: a callback's floor (`cb:<id>`) is answered,
    # missed and given up by the callback's rules (the callback store keeps its place)
    callbacks: Any = None

    @property
    def floor(self) -> Any:
        return self.bridging.floor

    @property
    def jobs(self) -> Any:
        return self.bridging.jobs

    @property
    def service(self) -> Any:
        return self.bridging.handoff.service

    def publish(self, kind: str, call: str, data: dict[str, Any], now: datetime) -> None:
        self.bridging.handoff.publish(kind, self.floor.record_of(call), data, now)

    # -- audio ---------------------------------------------------------------------------
    def wait(self, call: str) -> str:
        """The caller in the conference before an agent joins: the queue's hold audio."""
        return self._music(self.floor.field(call, "queue"), "agent_connecting", call)

    def hold(self, call: str) -> str:
        """The caller on hold (the participant's HoldUrl)."""
        return self._music(self.floor.field(call, "queue"), None, call)

    def _music(self, queue: str, prompt: str | None, call: str) -> str:
        r = VoiceResponse()
        record = self.floor.record_of(call)
        language = self.bridging.handoff.store.field(record, "language") or "en-US"
        if prompt:
            self.bridging.prompter.speak(r, prompt, language)
        play = self.audio.for_queue(queue) if self.audio is not None and queue else None
        if play is not None:
            r.play(play.url)
        else:
            r.pause(length=self.hold_pause)
        return str(r)

    # -- an agent-side leg ---------------------------------------------------------------
    def answered(self, call: str, leg_sid: str, role: str, who: str, token: str,
                 now: datetime, mode: str | None = None) -> str:
        """An agent-side (or monitor) leg picked up: put it in the conference. The routed
        agent's answer connects the caller (the answered wait, `agent_answered`)."""
        r = VoiceResponse()
        floor = self.floor.load(call)
        gone = floor is None or floor.caller_gone
        if not gone and role == "agent" and token:
            gone = not self._connect(floor, who, token, now)
            if not gone:
                self._ring_answered(who)
        if gone or floor is None:
            r.say("Sorry, the caller has hung up.", language="en-US")
            r.hangup()
            self._leg_state(call, leg_sid, role, who, "left", now)
            self._release_ring(call, role, who, token, now)
            return str(r)
        joined = self._leg_state(call, leg_sid, role, who, "joined", now, mode=mode)
        if role in AGENT_SIDE and not token and not who.startswith("+"):
            self.service.agents.floor_joined(who, call, now.timestamp())
            self._ring_answered(who)
        if joined is not None and joined.after:  # a cold transfer: the sender leaves now
            sender = floor.leg(joined.after)
            self.jobs.drop_leg(joined.after)
            self.publish("transfer", call, {
                "agent": sender.who if sender else "", "to_type": _kind(who), "to": who,
                "mode": "cold", "result": "completed"}, now)
        if role in ("agent", "consult"):
            r.say(self._summary(floor), language="en-US")
        if role == "agent" and token and self.bridging.recording is not None:
            self.bridging.recording.start(call, leg_sid)  # when the queue records
        coach = next((p.leg for p in floor.live("agent") if p.status == "joined"), None)
        leg_conference(r, self.bridging.prompter.urls, call, role, who, leg_sid, mode, coach)
        return str(r)

    def _connect(self, floor: Floor, agent: str, token: str, now: datetime) -> bool:
        """The routed agent answered: a queued caller is connected by the bridge, a callback's
        customer by the callback's rules."""
        if floor.is_callback and self.callbacks is not None:
            return bool(self.callbacks.connected(floor.call, agent, token, now))
        return self.bridging.answered(floor.call, agent, token, now)

    def _summary(self, floor: Floor) -> str:
        if floor.is_callback and self.callbacks is not None:
            return str(self.callbacks.summary(floor.call))
        return self.bridging.summary(floor.call)

    def _leg_state(self, call: str, sid: str, role: str, who: str, status: str,
                   now: datetime, mode: str | None = None) -> Leg | None:
        def change(before: Leg | None) -> Leg | None:
            base = before or Leg(sid, role, who)
            if base.status == "left":
                return None
            since = now.timestamp() if status == "joined" else base.since
            return replace(base, status=status, since=since,
                           muted=mode == "listen" if role == "monitor" else base.muted,
                           mode=mode if role == "monitor" else base.mode)
        return self.floor.update_leg(call, sid, change)[1]

    def leg_status(self, call: str, leg_sid: str, role: str, who: str, token: str,
                   status: str, now: datetime) -> None:
        """A ring's status callback: a ring nobody took puts the caller back in line (the
        routed agent) or is filed as missed; the end of a joined leg is its leaving."""
        if status not in (*MISSED, "completed"):
            return
        floor = self.floor.load(call)
        leg = floor.leg(leg_sid) if floor is not None else None
        if leg is not None and leg.since:
            self.left(call, leg_sid, now)
            return
        before, _ = self.floor.update_leg(call, leg_sid, lambda b: replace(
            b or Leg(leg_sid, role, who), status="left"))
        if before is not None and before.status == "left":
            return
        result = status if status in MISSED else "rejected"
        self._release_ring(call, role, who, token, now)  # before the count: see ring_missed
        if role in AGENT_SIDE and not who.startswith("+"):
            self.publish("agent_missed", call, {"agent": who, "result": result}, now)
            self._ring_missed(who, now)
        if role == "agent" and token and call.startswith("cb:") and self.callbacks is not None:
            self.callbacks.agent_missed(call, token, leg_sid, result, now)
            return
        if role == "agent" and token:
            self.service.bridge_failed(call, token, now.timestamp(), agent_presence=Presence.BREAK)
            self.jobs.redirect_caller(call, self.bridging.prompter.urls.make(
                "/voice/floor/back", call=call), leg_sid)
            return
        if floor is None or role not in ("agent", "consult", "third"):
            return
        sender = floor.leg(before.after) if before is not None and before.after else None
        if role == "consult" or sender is not None:
            agent = sender.who if sender else next((p.who for p in floor.live("agent")), "")
            self.publish("transfer", call, {
                "agent": agent, "to_type": _kind(who), "to": who,
                "mode": "warm" if role == "consult" else "cold", "result": "failed"}, now)

    def left(self, call: str, leg_sid: str, now: datetime) -> None:
        """A leg left the conference (its Dial action, its status callback or the
        conference's participant-leave: whichever comes first counts)."""
        before, after = self.floor.update_leg(
            call, leg_sid, lambda b: replace(b, status="left") if b and b.status != "left"
            else None)
        if before is None or after is None:
            return
        floor = self.floor.load(call)
        if floor is None:
            return
        if after.role == "caller":
            self._caller_left(floor, now)
            return
        if (floor.is_callback and floor.caller is None and after.role == "agent"
                and self.callbacks is not None):
            # agent_first: the agent left before the customer answered (no talk, no wrap-up)
            self.callbacks.agent_gone(floor, after, now)
            return
        if after.role in AGENT_SIDE and before.status == "joined":
            self._agent_left(floor, after, now)
        if after.role in AGENT_SIDE:
            self._maybe_end(call)

    def _agent_left(self, floor: Floor, leg: Leg, now: datetime) -> None:
        """An agent-side leg left: the agent who had the call files `agent_left` and starts
        after-call work as the Dial's end started it before conferences (the routed agent:
        reservations.call_ended; one who joined by a transfer: the queue's wrap-up time);
        a consulted colleague or an added agent is available again at once."""
        at = now.timestamp()
        if leg.role == "agent":
            hold = floor.hold_seconds + (at - floor.held_since if floor.held_since else 0.0)
            self.publish("agent_left", floor.call, {
                "agent": leg.who, "talk": round(at - leg.since, 1), "hold": round(hold, 1)},
                now)
        if leg.who.startswith("+"):
            return
        if leg.role == "agent" and self.floor.field(floor.call, "agent") == leg.who and (
                self.service.call_ended(floor.call, at) is not None):
            return
        if leg.role == "agent":  # the queue's wrap-up, timer and disposition rule
            self.service.start_wrap_up(leg.who, floor.call, floor.queue, at)
        else:
            self.service.agents.floor_left(leg.who, floor.call, at)

    def _caller_left(self, floor: Floor, now: datetime) -> None:
        """The caller hung up (the conference ends with them): a hold or a consult in
        progress ends with them."""
        if floor.held_since is not None:
            agent = next((p.who for p in floor.live("agent")), "")
            after, events = resumed(floor, agent, now.timestamp())
            self.floor.save(after)
            for kind, data in events:
                self.publish(kind, floor.call, data, now)
        for consult in floor.live("consult"):
            agent = next((p.who for p in floor.live("agent")), "")
            self.publish("transfer", floor.call, {
                "agent": agent, "to_type": _kind(consult.who), "to": consult.who,
                "mode": "warm", "result": "caller_hung_up"}, now)

    def _maybe_end(self, call: str) -> None:
        floor = self.floor.load(call)
        if floor is not None and needs_end(floor) and not floor.caller_gone and self.floor.once(
                call, "end"):
            self.jobs.end_conference(call)

    def conference_event(self, call: str, form: dict[str, str], now: datetime) -> None:
        """The conference's status callback: its SID, who is in the room, who left, held,
        muted."""
        event = form.get("StatusCallbackEvent", "")
        conference = form.get("ConferenceSid", "")[:64]
        leg = form.get("CallSid", "")[:64]
        known = self.floor.field(call, "conference")
        if conference and (known not in ("", conference) or self.floor.earlier_room(
                call, conference)):
            # a late callback of the caller's earlier room (same name, `cf-<CallSid>`): its
            # end must not end the floor of the room they are in now
            log.info("call %s: %s of earlier room %s ignored", call, event, conference)
            return
        if conference and not known:
            self.floor.set(call, conference=conference)
        if event == "conference-end":
            # the caller's leg, if no leave came for it
            self.left(call, self._caller_sid(call), now)
            self.floor.set(call, ended="1")
        elif event == "participant-join" and leg:
            self.floor.in_room(call, leg, True)  # the console's moves wait for this
        elif event == "participant-leave" and leg:
            self.floor.in_room(call, leg, False)
            self.left(call, leg, now)
        elif event in ("participant-mute", "participant-unmute", "participant-hold",
                       "participant-unhold") and leg:
            flag, on = event.removeprefix("participant-").removeprefix("un"), "-un" not in event
            self.floor.update_leg(call, leg, lambda b: replace(b, **{
                "muted" if flag == "mute" else "held": on}) if b else None)

    def _release_ring(self, call: str, role: str, who: str, token: str, now: datetime) -> None:
        """The floor's ring of an agent outside routing (a transfer, a consult, an added
        agent: held `ringing` by FloorMoves) ended without them joining: their presence
        back. The routed agent's ring is a reservation, released by `bridge_failed`."""
        if role in AGENT_SIDE and not token and not who.startswith("+"):
            self.service.agents.floor_left(who, call, now.timestamp())

    def _caller_sid(self, call: str) -> str:
        """The caller's leg: their own CallSid, or a callback customer's leg of its own."""
        if not call.startswith("cb:"):
            return call
        floor = self.floor.load(call)
        caller = floor.caller if floor is not None else None
        return caller.leg if caller is not None else call

    def _ring_missed(self, agent: str, now: datetime) -> None:
        """Agent state (ivr/store/agents.py): N missed rings in a row -> away."""
        try:
            self.service.agents.ring_missed(agent, now.timestamp())
        except NotFound:
            log.warning("missed ring of unknown agent %s", agent)

    def _ring_answered(self, agent: str) -> None:
        self.service.agents.ring_answered(agent)


def _kind(who: str) -> str:
    return "number" if who.startswith("+") else "agent"
