"""Callbacks that keep the caller's place in line.

A callback is an entry like a caller's, member `cb:<id>`, in the same sorted set with the
caller's ORIGINAL score (priority and virtual start), so it reaches the head exactly when the
caller would have. One pending callback per number per queue (`callbacks_by_number`): a second
request is merged (the earlier place wins) and reported as `merged`. `request` returns only
after Redis has stored it (`persisted=True`): the web layer confirms to the caller after that.

When it reaches the head, routing reserves an agent as for a call; the `dial_callback` job
places the call (agent-first or customer-first, per queue). No answer from the customer:
`unanswered` puts it back with the same place, `not_before` = now + retry delay, and asks for a
routing pass then; after `retries` failed attempts it is dropped and a `callback_failed` event
is pushed to the `ivr:events` stream for a follow-up. Callbacks are only routed while the
queue's hours say open (`QueueService.is_open`), and a caller may pick a later slot
(`not_before`).

Toll fraud (issue 12): `request` refuses a number the queue may not call (phonenumbers'
classification and the queue's `countries`, ivr/domain/phone_numbers.py) and a number over
its daily limit (ivr/store/callback_limits.py; the caller's own number counts too), each as
a `BadNumber` whose `refusal` says which, before anything is stored. Must not import Flask,
RQ or Twilio.

    svc.callbacks.request(queue, number, now, call_sid=None, not_before=None, caller=None)
        -> CallbackResult
    svc.callbacks.number(member) -> str               # the number to dial for `cb:<id>`
    svc.callbacks.unanswered(member, token, now, by="customer") -> "retry" | "given_up" | "stale"
    svc.callbacks.pending(queue, now) -> [{id, number, due, attempts, state, ...}]  # wallboard
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.domain.errors import Conflict
from ivr.domain.phone_numbers import canonical_number, validate_callback_number
from ivr.domain.queueing import Presence, score, unpack_score
from ivr.store import keys
from ivr.store.agents import to_ms
from ivr.store.callback_limits import CallbackQuota
from ivr.store.events import publish_event
from ivr.store.scripts import text

if TYPE_CHECKING:
    from ivr.store.redis_queue import QueueService


@dataclass(frozen=True)
class CallbackResult:
    outcome: str  # "created", "merged" or "busy" (the caller is being connected right now)
    callback_id: str
    number: str
    persisted: bool  # stored in Redis: only now may the caller hear the confirmation
    position: int | None
    not_before: float | None


_PENDING_FIELDS = ["number", "requested_at", "not_before", "attempts", "state", "call_sid"]


class CallbackStore:
    def __init__(self, service: QueueService) -> None:
        self.svc = service
        self.quota = CallbackQuota(service.conn)

    def request(self, queue: str, raw_number: str, now: float, *, call_sid: str | None = None,
                not_before: float | None = None, priority: int = 0,
                caller: str | None = None) -> CallbackResult:
        """Store a callback request. Raises BadNumber (ValueError) for a number we will not
        call or one over its daily limit (`caller`, the number that asked, is counted too),
        ValueError for a slot outside the queue's hours, Conflict when the queue takes
        no callbacks."""
        cfg = self.svc.config(queue)
        if not cfg.callback.enabled:
            raise Conflict(f"queue {queue!r} takes no callbacks; enable callback in queues.yaml")
        number = validate_callback_number(raw_number, cfg.callback.countries)
        if not_before is not None and not self.svc.is_open(cfg.hours, not_before):
            raise ValueError(f"the chosen time is outside queue {queue!r}'s hours; "
                             "choose a time when the queue is open")
        counted = [number, *_phone(caller)]
        token = self.quota.take(counted, now, cfg.callback.max_per_number_per_day)
        try:
            outcome, cb_id = self._store_retrying(queue, number, call_sid, now, not_before,
                                                  priority)
        except Exception:  # nothing stored: the count goes back (the error still propagates)
            self.quota.give_back(counted, token)
            raise
        if outcome != "created":  # merged into the pending one, or busy: no new call to pay for
            self.quota.give_back(counted, token)
        if outcome == "busy":
            return CallbackResult("busy", "", number, False, None, not_before)
        self.svc.trigger.queue_changed(queue, "callback")
        if not_before is not None:
            self.svc.trigger.queue_due(queue, not_before)
        member = f"cb:{cb_id}"
        return CallbackResult(outcome, cb_id, number, True, self.svc.position(member), not_before)

    def _store_retrying(self, queue: str, number: str, call_sid: str | None, now: float,
                        not_before: float | None, priority: int) -> tuple[str, str]:
        sc, joined = self._place(queue, call_sid, now, priority)
        for _ in range(5):  # compare-and-set on the number; retried only on a concurrent request
            outcome, cb_id = self._store(queue, number, call_sid, sc, joined, now, not_before)
            if outcome != "retry":
                return outcome, cb_id
        raise Conflict(f"callback for {number} kept changing under us; try again")

    def _place(self, queue: str, call_sid: str | None, now: float,
               priority: int) -> tuple[int, int]:
        """The caller's current score and join time when waiting here, else a new place."""
        if call_sid:
            state, q, sc, joined = (text(v) for v in self.svc.conn.hmget(
                keys.queue_entry(call_sid), ["state", "queue", "score", "joined_at"]))
            if state == "waiting" and q == queue:
                return int(float(sc)), int(joined)
        return score(priority, now), to_ms(now)

    def _store(self, queue: str, number: str, call_sid: str | None, sc: int, joined: int,
               now: float, not_before: float | None) -> tuple[str, str]:
        current = text(self.svc.conn.hget(keys.callbacks_by_number(queue), number))
        cb_id = current or uuid.uuid4().hex[:16]
        member = f"cb:{cb_id}"
        cfg = self.svc.config(queue)
        prio, vstart = unpack_score(sc)
        fields: dict[str, Any] = {
            "member": member, "queue": queue, "kind": "callback", "callback": cb_id,
                  "number": number, "skills": cfg.skill, "priority": prio,
                  "score": sc, "vstart": to_ms(vstart), "joined_at": joined, "state": "waiting",
                  "not_before": to_ms(not_before) if not_before else 0, "attempts": 0,
                  "requests": 1, "call_sid": call_sid or "", "requested_at": to_ms(now)}
        outcome, got = self.svc.scripts.callback(
            keys=[keys.queue_waiting(queue), keys.queue_joined(queue),
                  keys.callbacks_by_number(queue), keys.queue_entry(member),
                  keys.queue_entry(call_sid or "-"), keys.queue_parked(queue)],
            args=[number, cb_id, sc, joined, call_sid or "", current,
                  fields["not_before"], *[x for kv in fields.items() for x in kv]])
        return text(outcome), text(got)

    def pending(self, queue: str, now: float) -> list[dict[str, Any]]:
        """The callbacks still to be placed for `queue`, soonest due first (for the wallboard
        and the agent console). `due` is when it may be placed (the caller's chosen time, else
        when it was asked for), `waiting` how long it has been due (0 before then); `state` is
        waiting, or reserved/connected while an agent is on it. Two round trips."""
        numbers = self.svc.conn.hgetall(keys.callbacks_by_number(queue))
        ids = sorted({text(v) for v in numbers.values()})
        pipe = self.svc.conn.pipeline(transaction=False)
        for cb_id in ids:
            pipe.hmget(keys.queue_entry(f"cb:{cb_id}"), _PENDING_FIELDS)
        out = []
        for cb_id, raw in zip(ids, pipe.execute(), strict=True):
            number, requested, not_before, attempts, state, call_sid = (text(v) for v in raw)
            if not number:
                continue  # the entry went between the two reads
            due = max(int(requested or 0), int(not_before or 0)) / 1000.0
            out.append({"id": cb_id, "queue": queue, "number": number, "call_sid": call_sid,
                        "requested_at": int(requested or 0) / 1000.0, "due": due,
                        "waiting": round(max(0.0, now - due), 1), "state": state or "waiting",
                        "attempts": int(attempts or 0)})
        return sorted(out, key=lambda c: c["due"])

    def number(self, member: str) -> str:
        return text(self.svc.conn.hget(keys.queue_entry(member), "number"))

    def unanswered(self, member: str, token: str, now: float, by: str = "customer") -> str:
        """The callback's dial was not answered. By the agent: the agent goes on break and the
        callback back in line at once (no attempt counted). By the customer: counted; retried
        after the queue's delay, or given up after `retries` attempts with a follow-up event."""
        res = self.svc.reservation(token)
        if res is None or res["member"] != member:
            return "stale"
        cfg = self.svc.config(res["queue"])
        if by == "agent":
            self.svc.release(token, now, agent_presence=Presence.BREAK)
            return "retry"
        due = now + cfg.callback.retry_delay
        out = self.svc.release(token, now, agent_presence=Presence.AVAILABLE, not_before=due,
                               count_attempt=True)
        if out is None:
            return "stale"
        if out[2] <= cfg.callback.retries:
            self.svc.trigger.queue_due(cfg.name, due)
            return "retry"
        number = self.number(member)
        call_sid = text(self.svc.conn.hget(keys.queue_entry(member), "call_sid")) or member
        state, _, _ = self.svc._leave(cfg.name, member, now, "callback_failed", False)
        if state:
            self._follow_up(cfg.name, member, call_sid, number, out[2], now)
        return "given_up"

    def _follow_up(self, queue: str, member: str, call_sid: str, number: str, attempts: int,
                   now: float) -> None:
        """The callback is given up: an outcome event the follow-up rules turn into a task
        (filed under the call that asked for it)."""
        publish_event(self.svc.conn, "callback_done", call_sid, {
            "callback": member.removeprefix("cb:"), "result": "gave_up", "queue": queue,
            "number": number, "attempts": attempts}, now)


def _phone(caller: str | None) -> list[str]:
    """The asking caller's number in E.164 when it is one (not `anonymous`, `client:...`)."""
    number = canonical_number(caller or "")
    return [number] if number.startswith("+") and number[1:].isdigit() else []
