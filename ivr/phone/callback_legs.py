"""The two legs of a callback whose turn has come (placed by queue_worker/callbacks.py).

agent_first: the agent's phone rings first; when they answer, `agent_leg` dials the customer.
customer_first: the customer's phone rings first; `customer_leg` greets them and dials the
agent. Either Dial's action lands in `finished`; a first leg nobody answers is reported by its
status callback (`first_leg_ended`). Unanswered attempts go back to the callback store, which
keeps the original place in line, retries after the queue's delay and gives up (with a
follow-up event) after the configured retries. Events are filed under the CallSid that asked
for the callback, so they join that call's record. Must not import Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ivr.phone.queue_handoff import QueueHandOff
from ivr.phone.queue_twiml import Prompter, dial_agent
from ivr.phone.twiml_builder import VoiceResponse
from ivr.store import keys
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

    def entry(self, leg: CallbackLeg) -> dict[str, str]:
        raw = self.handoff.service.conn.hmget(
            keys.queue_entry(leg.member), ["queue", "number", "call_sid", "attempts"])
        return dict(zip(("queue", "number", "call_sid", "attempts"), (text(v) for v in raw),
                        strict=True))

    def agent_leg(self, leg: CallbackLeg) -> str:
        """The agent answered: tell them, then ring the customer."""
        entry = self.entry(leg)
        r = VoiceResponse()
        if not entry["number"]:
            r.say("This callback was already handled. Goodbye.", language="en-US")
            r.hangup()
            return str(r)
        cfg = self.handoff.service.config(entry["queue"])
        r.say(f"Callback for a {entry['queue']} customer. Connecting you now.", language="en-US")
        dial = r.dial(action=self._done_url(leg, "customer"), method="POST",
                      timeout=cfg.callback.ring_timeout)
        dial.number(entry["number"])
        return str(r)

    def customer_leg(self, leg: CallbackLeg) -> str:
        """The customer answered: greet them, then ring the agent."""
        entry = self.entry(leg)
        r = VoiceResponse()
        if not entry["number"]:
            r.hangup()
            return str(r)
        cfg = self.handoff.service.config(entry["queue"])
        language = self._language(entry["call_sid"])
        self.prompter.speak(r, "callback_greeting", language)
        agent = self.handoff.service.agents.get(leg.agent)
        dial = r.dial(action=self._done_url(leg, "agent"), method="POST",
                      timeout=cfg.ring_timeout)
        dial_agent(dial, agent.address, self.prompter.urls.make(
            "/voice/queue/callback/answered", **leg.params()))
        return str(r)

    def answered(self, leg: CallbackLeg, now: datetime) -> str:
        """Both parties are on: record the answer (customer-first's agent whisper)."""
        entry = self.entry(leg)
        wait = self.handoff.service.bridge_answered(leg.member, leg.reservation,
                                                    now.timestamp())
        if wait is not None and entry["queue"]:
            self._publish(entry, leg, "agent_answered", {"queue": entry["queue"],
                                                         "agent": leg.agent}, now)
            self.handoff.stats.answered(entry["queue"], wait, now.timestamp())
        r = VoiceResponse()
        r.say("Callback customer on the line.", language="en-US")
        return str(r)

    def finished(self, leg: CallbackLeg, by: str, status: str, duration: float | None,
                 dialled_sid: str, now: datetime) -> str:
        """The second leg's Dial ended: answered -> done; otherwise an unanswered attempt
        (`by` says who did not answer: the customer or the agent)."""
        entry = self.entry(leg)
        if not entry["queue"]:
            return str(VoiceResponse())
        at = now.timestamp()
        attempt = int(entry["attempts"] or 0) + 1
        if status in ANSWERED_DIAL:
            self.answered(leg, datetime.fromtimestamp(at - (duration or 0), UTC))
            self.handoff.service.dial_finished(leg.member, leg.reservation, status, at, duration)
            self.handoff.stats.call_ended(entry["queue"], duration or 0.0, at)
            self._publish(entry, leg, "callback_attempt", {
                "callback": leg.callback, "attempt": attempt, "result": "answered",
                "leg_sid": dialled_sid, "agent": leg.agent}, now)
            self._publish(entry, leg, "callback_done",
                          {"callback": leg.callback, "result": "completed"}, now)
        else:
            self.unanswered(leg, by, status, dialled_sid, now)
        r = VoiceResponse()
        r.hangup()
        return str(r)

    def first_leg_ended(self, leg: CallbackLeg, by: str, status: str, leg_sid: str,
                        now: datetime) -> None:
        """Status callback of the leg the worker placed: only a leg nobody picked up matters
        (an answered one is closed by `finished`)."""
        if status in UNANSWERED:
            self.unanswered(leg, by, status, leg_sid, now)

    def unanswered(self, leg: CallbackLeg, by: str, status: str, leg_sid: str,
                   now: datetime) -> None:
        entry = self.entry(leg)
        outcome = self.handoff.service.callbacks.unanswered(
            leg.member, leg.reservation, now.timestamp(), by=by)
        if outcome == "stale" or not entry["queue"]:
            return
        counted = by == "customer"
        self._publish(entry, leg, "callback_attempt", {
            "callback": leg.callback,
            "attempt": int(entry["attempts"] or 0) + 1, "counted": counted,
            "result": status if status in UNANSWERED else "no-answer", "leg_sid": leg_sid,
            "agent": leg.agent, "unanswered_by": by}, now)

    def _done_url(self, leg: CallbackLeg, by: str) -> str:
        return self.prompter.urls.make("/voice/queue/callback/done", **leg.params(by=by))

    def _language(self, call_sid: str) -> str:
        return (self.handoff.store.field(call_sid, "language") or "en-US") if call_sid else \
            "en-US"

    def _publish(self, entry: dict[str, str], leg: CallbackLeg, kind: str,
                 data: dict[str, Any], now: datetime) -> None:
        self.handoff.publish(kind, entry["call_sid"] or leg.member, data, now)
