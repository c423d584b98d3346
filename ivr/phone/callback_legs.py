"""The two legs of a callback whose turn has come (placed by queue_worker/callbacks.py), met
in a conference as a routed caller meets an agent (docs/agent-floor.md, "Callbacks").

The room is the callback's floor: named for the member (`cf-cb:<id>`), so the console, which
knows the agent's call as `cb:<id>`, finds it, and every move and supervisor action of the
floor works on it (ivr/phone/floor_legs.py, floor_moves.py). The customer is the floor's
`caller` leg (a CallSid of its own); the floor's `record` field names the call that asked for
the callback, and every event of the floor is filed under it, so they join that call's record.

agent_first: the agent's phone rings first; when they answer, `agent_leg` tells them and puts
them in the room while a job rings the customer (`ring_customer`); the customer answering
(`customer_leg` with first=agent) connects them. customer_first: the customer's phone rings
first; `customer_leg` greets them, puts them in the room and has the floor's job ring the
agent (`/voice/floor/agent`, which calls `connected`). The customer's Dial action (the room
ended) lands in `finished`. A ring nobody answers goes back to the callback store, which keeps
the original place in line, retries after the queue's delay and gives up (with a follow-up
event) after the configured retries: the customer's ring by its status callback
(`first_leg_ended`), the agent's by the floor (`agent_missed`), an agent who leaves before the
customer answered by `agent_gone`. Calls placed before conferences (a plain `<Dial>`) still
finish through the old path of `finished` and `answered`. Must not import Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ivr.domain.floor import Floor, Leg
from ivr.phone.floor_twiml import caller_conference, leg_conference
from ivr.phone.queue_handoff import QueueHandOff
from ivr.phone.queue_twiml import Prompter
from ivr.phone.twiml_builder import VoiceResponse
from ivr.store import keys
from ivr.store.floor import FloorStore
from ivr.store.jobs import FloorJobs
from ivr.store.reservations import ANSWERED_DIAL
from ivr.store.scripts import text

UNANSWERED = ("no-answer", "busy", "failed", "canceled")


@dataclass(frozen=True)
class CallbackLeg:
    callback: str
    reservation: str
    agent: str

    @property
    def member(self) -> str:
        return f"cb:{self.callback}"

    def params(self, **extra: str) -> dict[str, str]:
        return {"callback": self.callback, "reservation": self.reservation,
                "agent": self.agent, **extra}


@dataclass
class CallbackLegs:
    handoff: QueueHandOff
    prompter: Prompter
    floor: FloorStore
    jobs: FloorJobs
    recording: Any = None  # ivr.phone.floor_recording.FloorRecording (recorded agent calls)

    def entry(self, leg: CallbackLeg) -> dict[str, str]:
        raw = self.handoff.service.conn.hmget(
            keys.queue_entry(leg.member), ["queue", "number", "call_sid", "attempts"])
        return dict(zip(("queue", "number", "call_sid", "attempts"), (text(v) for v in raw),
                        strict=True))

    # -- the legs -------------------------------------------------------------------------
    def agent_leg(self, leg: CallbackLeg, agent_sid: str, now: datetime) -> str:
        """agent_first: the agent answered: tell them, put them in the callback's room and
        ring the customer (a job: a webhook never waits on Twilio)."""
        entry = self.entry(leg)
        r = VoiceResponse()
        if not entry["number"] or not self._reserved(leg):
            r.say("This callback was already handled. Goodbye.", language="en-US")
            r.hangup()
            return str(r)
        self._open(leg, entry)
        self.floor.add_leg(leg.member, Leg(agent_sid, "agent", leg.agent, "joined",
                                           since=now.timestamp()))
        self.handoff.service.agents.ring_answered(leg.agent)
        r.say(f"Callback for a {entry['queue']} customer. Connecting you now.", language="en-US")
        leg_conference(r, self.prompter.urls, leg.member, "agent", leg.agent, agent_sid)
        self.jobs.ring_customer(leg.member, leg.agent, leg.reservation)
        return str(r)

    def customer_leg(self, leg: CallbackLeg, customer_sid: str, agent_first: bool,
                     now: datetime) -> str:
        """The customer answered. customer_first: greet them, put them in the room and ring
        the agent; agent_first (the agent waits in the room): they are connected now."""
        entry = self.entry(leg)
        r = VoiceResponse()
        if not entry["number"] or not self._reserved(leg) or (
                agent_first and not self._join_agent(leg, now)):
            r.hangup()
            return str(r)
        language = self._language(entry["call_sid"])
        if not agent_first:
            self._open(leg, entry)
            self.prompter.speak(r, "callback_greeting", language)
        self.floor.add_leg(leg.member, Leg(customer_sid, "caller", "caller", "joined",
                                           since=now.timestamp()))
        if self.recording is not None:  # FLOOR_RECORDING: the customer is told first
            self.recording.speak_notice(r, entry["queue"], language)
        caller_conference(r, self.prompter.urls, leg.member,
                          self._done_url(leg, "customer" if agent_first else "agent"))
        if not agent_first:
            self.jobs.ring_agent(leg.member, leg.agent, leg.reservation)
        return str(r)

    def _join_agent(self, leg: CallbackLeg, now: datetime) -> bool:
        """agent_first: the customer answered and the agent still waits in the room: they are
        connected now (False when the agent left or the reservation went stale)."""
        agent = self._waiting_agent(leg)
        if agent is None or not self.connected(leg.member, leg.agent, leg.reservation, now):
            return False
        # the agent's talk starts with the customer, not with the customer's ring
        self.floor.update_leg(leg.member, agent.leg, lambda b: replace(
            b, since=now.timestamp()) if b else None)
        if self.recording is not None:  # FLOOR_RECORDING: the agent's leg, when it records
            self.recording.start(leg.member, agent.leg)
        return True

    def connected(self, member: str, agent: str, token: str, now: datetime) -> bool:
        """Both parties are on: record the answer once (the answered wait, `agent_answered`).
        False for a stale reservation (the callback was released meanwhile)."""
        queue = text(self.handoff.service.conn.hget(keys.queue_entry(member), "queue"))
        wait = self.handoff.service.bridge_answered(member, token, now.timestamp())
        if wait is None or not queue:
            return False
        self.floor.set(member, answered="1")
        self._publish(self._record(member), member, "agent_answered",
                      {"queue": queue, "agent": agent}, now)
        self.handoff.stats.answered(queue, wait, now.timestamp())
        return True

    def summary(self, member: str) -> str:
        """What the agent hears when they join (customer_first)."""
        return f"Callback for a {self.floor.field(member, 'queue') or 'queue'} customer."

    def answered(self, leg: CallbackLeg, now: datetime) -> str:
        """The whisper of a plain `<Dial>` bridge placed before conferences (customer-first's
        agent leg): record the answer."""
        self.connected(leg.member, leg.agent, leg.reservation, now)
        r = VoiceResponse()
        r.say("Callback customer on the line.", language="en-US")
        return str(r)

    # -- the end of an attempt --------------------------------------------------------------
    def finished(self, leg: CallbackLeg, by: str, status: str, duration: float | None,
                 dialled_sid: str, now: datetime, call_status: str = "") -> str:
        """The customer's Dial ended (their room ended): answered -> done; otherwise an
        unanswered attempt (`by` says who did not answer: the customer or the agent).
        `call_status` `completed`: the customer hung up in the room (`caller_hung_up`, as
        for a routed caller, ivr/phone/bridging.py)."""
        r = VoiceResponse()
        r.hangup()
        floor = self.floor.load(leg.member)
        if floor is not None and self.floor.field(leg.member, "reservation") == leg.reservation:
            self._room_finished(floor, leg, by, duration, now, call_status == "completed")
            return str(r)
        self._dial_finished(leg, by, status, duration, dialled_sid, now)
        return str(r)

    def _room_finished(self, floor: Floor, leg: CallbackLeg, by: str, duration: float | None,
                       now: datetime, hung_up: bool) -> None:
        if not self.floor.once(leg.member, "finished"):
            return
        caller = floor.caller
        customer = caller.leg if caller is not None else ""
        if self.floor.field(leg.member, "answered") != "1":
            self.unanswered(leg, by, "no-answer", customer, now)  # stale if already filed
            return
        record = self._record(leg.member)
        if hung_up:  # the agent who had the call: the last agent-role leg that answered
            had = [p.who for p in floor.legs if p.role == "agent" and p.since]
            self._publish(record, leg.member, "caller_hung_up",
                          {"agent": had[-1]} if had else {}, now)
        at = now.timestamp()
        self.handoff.service.dial_finished(leg.member, leg.reservation, "completed", at,
                                           duration)
        self.handoff.stats.call_ended(floor.queue, duration or 0.0, at)
        attempt = int(self.floor.field(leg.member, "attempts") or 0) + 1
        self._attempt_done(record, leg, attempt, customer, now)

    def _dial_finished(self, leg: CallbackLeg, by: str, status: str, duration: float | None,
                       dialled_sid: str, now: datetime) -> None:
        """A plain `<Dial>` bridge (placed before conferences) ended."""
        entry = self.entry(leg)
        if not entry["queue"]:
            return
        at = now.timestamp()
        if status in ANSWERED_DIAL:
            self.connected(leg.member, leg.agent, leg.reservation,
                           datetime.fromtimestamp(at - (duration or 0), UTC))
            self.handoff.service.dial_finished(leg.member, leg.reservation, status, at, duration)
            self.handoff.stats.call_ended(entry["queue"], duration or 0.0, at)
            self._attempt_done(entry["call_sid"] or leg.member, leg,
                               int(entry["attempts"] or 0) + 1, dialled_sid, now)
        else:
            self.unanswered(leg, by, status, dialled_sid, now)

    def _attempt_done(self, record: str, leg: CallbackLeg, attempt: int, leg_sid: str,
                      now: datetime) -> None:
        self._publish(record, leg.member, "callback_attempt", {
            "callback": leg.callback, "attempt": attempt, "result": "answered",
            "leg_sid": leg_sid, "agent": leg.agent}, now)
        self._publish(record, leg.member, "callback_done",
                      {"callback": leg.callback, "result": "completed"}, now)

    def first_leg_ended(self, leg: CallbackLeg, by: str, status: str, leg_sid: str,
                        now: datetime) -> None:
        """Status callback of a leg a job placed (the first leg; agent_first's customer
        ring): only a leg nobody picked up matters (an answered one is closed by `finished`).
        The agent waiting in the room for a customer who did not answer is let go."""
        if status in UNANSWERED:
            self.unanswered(leg, by, status, leg_sid, now)
            if by == "customer":
                self._let_agent_go(leg)

    def agent_missed(self, member: str, token: str, leg_sid: str, result: str,
                     now: datetime) -> None:
        """customer_first: the agent's ring ended unanswered (the floor's leg status). Not
        counted; the customer, waiting in the room, is sent to `finished` (a hang-up)."""
        leg = self._leg_of(member, token)
        self.unanswered(leg, "agent", result, leg_sid, now)
        floor = self.floor.load(member)
        caller = floor.caller if floor is not None else None
        if caller is not None and caller.live:
            self.jobs.redirect_caller(caller.leg, self._done_url(leg, "agent"), leg_sid)

    def agent_gone(self, floor: Floor, agent: Leg, now: datetime) -> None:
        """agent_first: the agent left the room before the customer answered: the attempt
        is the agent's (not counted), the customer's ring is cancelled."""
        leg = self._leg_of(floor.call, self.floor.field(floor.call, "reservation"))
        self.unanswered(leg, "agent", "canceled", agent.leg, now)
        ring = self.floor.field(floor.call, "customer_ring")
        self.floor.set(floor.call, ended="1")
        if ring:
            self.jobs.drop_leg(ring)

    def unanswered(self, leg: CallbackLeg, by: str, status: str, leg_sid: str,
                   now: datetime) -> None:
        entry = self.entry(leg)
        outcome = self.handoff.service.callbacks.unanswered(
            leg.member, leg.reservation, now.timestamp(), by=by)
        if outcome == "stale" or not entry["queue"]:
            return
        counted = by == "customer"
        self._publish(entry["call_sid"] or leg.member, leg.member, "callback_attempt", {
            "callback": leg.callback,
            "attempt": int(entry["attempts"] or 0) + 1, "counted": counted,
            "result": status if status in UNANSWERED else "no-answer", "leg_sid": leg_sid,
            "agent": leg.agent, "unanswered_by": by}, now)

    # -- the room ----------------------------------------------------------------------------
    def _open(self, leg: CallbackLeg, entry: dict[str, str]) -> None:
        """The attempt's floor (the previous attempt's, if any, is dropped): what `finished`
        needs once the agent's leaving has removed the queue entry."""
        self.floor.create(leg.member, entry["queue"], agent=leg.agent,
                          reservation=leg.reservation, record=entry["call_sid"] or leg.member,
                          attempts=entry["attempts"] or "0", number=entry["number"])

    def _reserved(self, leg: CallbackLeg) -> bool:
        res = self.handoff.service.reservation(leg.reservation)
        return res is not None and res["member"] == leg.member

    def _waiting_agent(self, leg: CallbackLeg) -> Leg | None:
        """agent_first: the agent's leg still in this attempt's room."""
        floor = self.floor.load(leg.member)
        if (floor is None or floor.ended
                or self.floor.field(leg.member, "reservation") != leg.reservation):
            return None
        return next((p for p in floor.live("agent") if p.status == "joined"), None)

    def _let_agent_go(self, leg: CallbackLeg) -> None:
        """The customer did not answer: the agent's leg leaves the room without talk or
        wrap-up (marked left first, so its leaving files nothing)."""
        floor = self.floor.load(leg.member)
        if floor is None or self.floor.field(leg.member, "reservation") != leg.reservation:
            return
        self.floor.set(leg.member, ended="1")
        for agent in floor.live("agent", "consult", "third", "monitor"):
            self.floor.update_leg(leg.member, agent.leg, lambda b: replace(
                b, status="left") if b else None)
            self.jobs.drop_leg(agent.leg)

    def _leg_of(self, member: str, token: str) -> CallbackLeg:
        return CallbackLeg(member.removeprefix("cb:"), token, self.floor.field(member, "agent"))

    def _record(self, member: str) -> str:
        return self.floor.record_of(member)

    def _done_url(self, leg: CallbackLeg, by: str) -> str:
        return self.prompter.urls.make("/voice/queue/callback/done", **leg.params(by=by))

    def _language(self, call_sid: str) -> str:
        return (self.handoff.store.field(call_sid, "language") or "en-US") if call_sid else \
            "en-US"

    def _publish(self, record: str, member: str, kind: str, data: dict[str, Any],
                 now: datetime) -> None:
        self.handoff.publish(kind, record or member, data, now)
