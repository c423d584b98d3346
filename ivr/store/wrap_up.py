"""After-call work (docs/agent-floor.md, Agent state): how an agent's wrap-up ends, is
extended, or waits for a disposition, and the `wrap_up` outcome event that records it.

finish.lua starts wrap-up when a connected call ends (fields on the agent hash: wrap_until,
wrap_call, wrap_started, wrap_extended, wrap_queue, wrap_disposition). It ends one of three
ways, each through wrap_end.lua so the agent becomes available exactly once:
- `timeout`: the timer (an RQ job at wrap_until, and the worker's tick) once the time passed;
- `early`: the agent ends it (`POST /agent/wrapup/end`, or sets another presence by hand);
- `disposition`: the queue has `disposition_required: true`, the time passed, and the
  disposition for that call is filed now.
While a required disposition is missing nothing ends it. Mixed into `QueueService`
(redis_queue.py), which supplies the connection, scripts, agents and trigger. The event is
written here (ivr/store/events.py) so every path files it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from ivr.domain.errors import Conflict
from ivr.domain.queueing import Presence, QueueConfig
from ivr.store import events, keys
from ivr.store.agents import AgentStore, to_ms
from ivr.store.floor import FloorStore
from ivr.store.scripts import QueueScripts, text

if TYPE_CHECKING:
    from ivr.domain.queue_ports import RoutingTrigger

TIMER_SLACK_MS = 50  # a timer job firing a hair early still ends the wrap-up


@dataclass(frozen=True)
class WrapUp:
    """An agent's wrap-up as the console shows it (`context.json`'s `wrap_up`)."""

    call: str
    until: float
    started: float
    extended: float
    disposition_required: bool

    def as_dict(self) -> dict[str, object]:
        return {"call": self.call, "until": self.until, "started": self.started,
                "extended": self.extended, "disposition_required": self.disposition_required}


class WrapUpOps:
    conn: redis.Redis
    scripts: QueueScripts
    agents: AgentStore
    trigger: RoutingTrigger
    wrap_up_max_extend: float
    queues: dict[str, QueueConfig]

    def agent_ready(self, agent_id: str) -> None:  # pragma: no cover - QueueService's
        raise NotImplementedError

    def wrap_up(self, agent_id: str) -> WrapUp | None:
        """The agent's wrap-up now, None when they are not in wrap-up."""
        raw = self.conn.hmget(keys.agent(agent_id), ["presence", "wrap_until", "wrap_call",
                                                     "wrap_started", "wrap_extended",
                                                     "wrap_disposition"])
        presence, until, call, started, extended, disposition = (text(v) for v in raw)
        if presence != "wrap_up":
            return None
        return WrapUp(call, int(until or 0) / 1000.0, int(started or 0) / 1000.0,
                      int(extended or 0) / 1000.0, disposition == "1")

    def end_wrap_up(self, agent_id: str, now: float, how: str = "timeout") -> bool:
        """End the agent's wrap-up if it may end now (see the module docstring); files the
        `wrap_up` event and asks for routing. True when it ended."""
        done, *rest = self.scripts.wrap_end(
            keys=[keys.agent(agent_id), *self.agents.skill_keys(agent_id)],
            args=[agent_id, to_ms(now), how, TIMER_SLACK_MS])
        if not int(done):
            return False
        call, started, extended = (text(v) for v in rest)
        if call:
            seconds = max(0.0, now - int(started or to_ms(now)) / 1000.0)
            # a callback's (`cb:<id>`) joins the record of the call that asked for it
            record = FloorStore(self.conn).record_of(call)
            events.publish_event(self.conn, "wrap_up", record, {
                "agent": agent_id, "seconds": round(seconds, 3), "ended": how,
                "extended": int(extended or 0) / 1000.0}, now)
        self.agent_ready(agent_id)
        return True

    def end_wrap_up_early(self, agent_id: str, now: float) -> WrapUp:
        """`POST /agent/wrapup/end`. Conflict when not in wrap-up, or while the queue's
        required disposition is missing."""
        current = self.wrap_up(agent_id)
        if current is None:
            raise Conflict(f"agent {agent_id!r} is not in wrap-up")
        if current.disposition_required:
            raise Conflict("this queue needs a disposition for the call before wrap-up ends: "
                           "file it, and wrap-up ends with it")
        if not self.end_wrap_up(agent_id, now, "early"):
            raise Conflict(f"agent {agent_id!r} is no longer in wrap-up")
        return current

    def extend_wrap_up(self, agent_id: str, seconds: float, now: float) -> WrapUp:
        """`POST /agent/wrapup/extend`: add `seconds` to the wrap-up, at most
        IVR_WRAP_UP_MAX_EXTEND in all for one wrap-up (the rest is refused with Conflict)."""
        if not 0 < seconds <= 3600:
            raise ValueError("seconds must be a number between 1 and 3600")
        key = keys.agent(agent_id)
        cap_ms = to_ms(self.wrap_up_max_extend)
        with self.conn.pipeline(transaction=True) as pipe:
            pipe.watch(key)
            presence, until, extended = (text(v) for v in pipe.hmget(
                key, ["presence", "wrap_until", "wrap_extended"]))
            if presence != "wrap_up":
                raise Conflict(f"agent {agent_id!r} is not in wrap-up")
            room = cap_ms - int(extended or 0)
            add = min(to_ms(seconds), room)
            if add <= 0:
                raise Conflict(f"wrap-up was already extended by the most allowed "
                               f"({self.wrap_up_max_extend:g} s)")
            new_until = max(int(until or 0), to_ms(now)) + add
            pipe.multi()
            pipe.hset(key, mapping={"wrap_until": new_until,
                                    "wrap_extended": int(extended or 0) + add})
            pipe.execute()
        self.trigger.agent_free_at(agent_id, new_until / 1000.0)
        found = self.wrap_up(agent_id)
        if found is None:  # pragma: no cover - ended between the two reads
            raise Conflict(f"agent {agent_id!r} is no longer in wrap-up")
        return found

    def start_wrap_up(self, agent_id: str, call_sid: str, queue: str | None,
                      now: float) -> float | None:
        """After-call work for an agent who joined `call_sid` outside routing (a transfer's
        target, a consulted agent; the routed agent's starts in finish.lua) and left it now:
        wrap-up with the queue's time and disposition rule, so it ends, and is recorded,
        like any other. Only from on_call with that call. Returns wrap_until, None when
        the agent was not on that call."""
        cfg = self.queues.get(queue or "")
        seconds = cfg.wrap_up_seconds if cfg else 0.0
        key = keys.agent(agent_id)
        if text(self.conn.hget(key, "member")) != call_sid:
            return None
        _, changed = self.agents._apply(agent_id, Presence.WRAP_UP, now, allowed_from="on_call")
        if not changed:
            return None
        until = now + seconds
        pipe = self.conn.pipeline(transaction=True)
        pipe.hdel(key, "member", "token")
        pipe.hset(key, mapping={"wrap_until": to_ms(until), "wrap_call": call_sid,
                                "wrap_started": to_ms(now), "wrap_extended": 0,
                                "wrap_queue": queue or ""})
        if cfg is not None and cfg.disposition_required:
            pipe.hset(key, "wrap_disposition", "1")
        pipe.execute()
        self.trigger.agent_free_at(agent_id, until)
        return until

    def disposition_filed(self, agent_id: str, call_sid: str, now: float) -> bool:
        """A disposition was filed for `call_sid` by or for `agent_id`: a required one no
        longer holds the wrap-up, which ends now if its time has passed (else at its time).
        True when the wrap-up ended now."""
        key = keys.agent(agent_id)
        if text(self.conn.hget(key, "wrap_call")) != call_sid:
            return False
        if not self.conn.hdel(key, "wrap_disposition"):
            return False
        return self.end_wrap_up(agent_id, now, "disposition")
