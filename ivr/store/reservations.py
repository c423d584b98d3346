"""Reservations: the life of one (caller, agent) pair from `route` to the end of the call.

States of a reservation hash: `reserved` (made by reserve.lua, short lease) -> `bridging`
(the bridge job is calling Twilio; lease extended to ring timeout + grace) -> `bridged`
(Twilio accepted the redirect) -> deleted by connect.lua (answered) or release.lua (no answer,
failure, lease expired). The reservation token travels in the bridge URL, so a stale or repeated
bridge request is recognised and refused by `bridge_target`.

Mixed into `QueueService` (redis_queue.py), which supplies the connection, scripts and config.
Must not import Flask, RQ or Twilio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from ivr.domain.queueing import Agent, Presence, QueueConfig
from ivr.store import keys
from ivr.store.agents import AgentStore, to_ms
from ivr.store.scripts import QueueScripts, text

if TYPE_CHECKING:
    from ivr.domain.queue_ports import RoutingTrigger

ANSWERED_DIAL = {"completed", "answered"}


@dataclass(frozen=True)
class Reservation:
    token: str
    member: str
    agent: Agent
    queue: str
    kind: str  # "call" or "callback"


class ReservationOps:
    conn: redis.Redis
    scripts: QueueScripts
    agents: AgentStore
    queues: dict[str, QueueConfig]
    trigger: RoutingTrigger
    lease_seconds: float
    bridge_grace: float
    recent: int

    def config(self, queue: str) -> QueueConfig:  # pragma: no cover - provided by QueueService
        raise NotImplementedError

    def reservation(self, token: str) -> dict[str, str] | None:
        raw: Mapping[bytes, bytes] = self.conn.hgetall(keys.reservation(token))  # type: ignore[assignment]
        return {text(k): text(v) for k, v in raw.items()} or None

    def expire_leases(self, now: float, limit: int = 100) -> int:
        """Undo reservations whose lease ended: callers go back with their score, agents back
        to available (keeping their idle time). Returns how many were undone."""
        tokens = self.conn.zrangebyscore(keys.reservation_leases(), "-inf", to_ms(now),
                                         start=0, num=limit)
        undone = 0
        for token in tokens:
            if self.release(text(token), now, agent_presence=Presence.AVAILABLE) is not None:
                undone += 1
        return undone

    def release(self, token: str, now: float, *, agent_presence: str = Presence.AVAILABLE,
                not_before: float | None = None,
                count_attempt: bool = False) -> tuple[int, int, int] | None:
        """Undo one reservation (release.lua). None when the token is unknown."""
        res = self.reservation(token)
        if res is None:
            self.conn.zrem(keys.reservation_leases(), token)
            return None
        queue, member, agent_id = res["queue"], res["member"], res["agent"]
        requeued, reset, attempts = self.scripts.release(
            keys=[keys.queue_waiting(queue), keys.queue_joined(queue), keys.queue_entry(member),
                  keys.agent(agent_id), keys.reservation(token), keys.reservation_leases(),
                  *self.agents.skill_keys(agent_id)],
            args=[token, str(agent_presence), to_ms(now),
                  "" if not_before is None else to_ms(not_before), "1" if count_attempt else "0"])
        if requeued == -1:
            return None
        if requeued:
            self.trigger.queue_changed(queue, "requeued")
        if reset and agent_presence == Presence.AVAILABLE:
            self.trigger.queue_changed(queue, "agent")
        return int(requeued), int(reset), int(attempts)

    def begin_bridge(self, token: str, now: float) -> Reservation | None:
        """Mark a reservation as being bridged and extend its lease to cover the ringing.
        None when there is nothing (left) to bridge: unknown token, or already bridged."""
        key = keys.reservation(token)
        found: dict[str, str] = {}

        def step(pipe: redis.client.Pipeline) -> None:
            data = {text(k): text(v) for k, v in pipe.hgetall(key).items()}
            found.clear()
            if data.get("state") not in ("reserved", "bridging"):
                return
            found.update(data)
            cfg = self.config(data["queue"])
            ring = cfg.callback.ring_timeout if data["kind"] == "callback" else cfg.ring_timeout
            pipe.multi()
            pipe.hset(key, "state", "bridging")
            pipe.zadd(keys.reservation_leases(),
                      {token: to_ms(now + ring + self.bridge_grace)}, xx=True)

        self.conn.transaction(step, key)
        if not found:
            return None
        return Reservation(token, found["member"], self.agents.get(found["agent"]),
                           found["queue"], found["kind"])

    def bridge_sent(self, token: str) -> None:
        """Twilio accepted the redirect or the outbound call: a job retry must not repeat it."""
        key = keys.reservation(token)
        with self.conn.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                if not pipe.exists(key):
                    return
                pipe.multi()
                pipe.hset(key, "state", "bridged")
                pipe.execute()
            except redis.WatchError:
                return

    def bridge_target(self, member: str, agent_id: str, token: str) -> Agent | None:
        """The agent to `<Dial>` for a bridge request, or None when the request is stale
        (reservation expired, re-routed or already answered): answer with the hold loop."""
        state, entry_token, entry_agent = (text(v) for v in self.conn.hmget(
            keys.queue_entry(member), ["state", "token", "agent"]))
        if state != "reserved" or entry_token != token or entry_agent != agent_id:
            return None
        return self.agents.get(agent_id)

    def bridge_answered(self, member: str, token: str, now: float) -> float | None:
        """The agent answered: the caller is connected. Returns the answered wait (seconds),
        or None for a stale token (a repeat of this call is harmless)."""
        res = self.reservation(token)
        if res is None:
            return None
        queue = res["queue"]
        wait = self.scripts.connect(
            keys=[keys.queue_entry(member), keys.agent(res["agent"]), keys.reservation(token),
                  keys.reservation_leases(), keys.queue_stats(queue),
                  keys.queue_recent_waits(queue), keys.callbacks_by_number(queue)],
            args=[token, to_ms(now), self.recent,
                  member[3:] if member.startswith("cb:") else ""])
        return None if int(wait) < 0 else int(wait) / 1000.0

    def bridge_failed(self, member: str, token: str, now: float,
                      agent_presence: str = Presence.BREAK) -> bool:
        """The agent did not answer (or the bridge failed): the caller goes back in line with
        the SAME virtual start; the agent goes to `agent_presence` (break by default, so an
        absent agent is not rung again and again). True when the caller was put back."""
        res = self.reservation(token)
        if res is None or res["member"] != member:
            return False
        out = self.release(token, now, agent_presence=agent_presence)
        return bool(out and out[0])

    def dial_finished(self, member: str, token: str, dial_status: str, now: float,
                      duration: float | None = None) -> str:
        """Handle a `<Dial>` action: answered -> connected then ended; else back in line.
        Returns "ended", "requeued" or "stale"."""
        if dial_status in ANSWERED_DIAL:
            answered_at = now - duration if duration else now
            self.bridge_answered(member, token, answered_at)
            return "ended" if self.call_ended(member, now) is not None else "stale"
        return "requeued" if self.bridge_failed(member, token, now) else "stale"

    def call_ended(self, member: str, now: float) -> float | None:
        """A connected call ended: record the handle time and start the agent's wrap-up.
        Returns the handle time in seconds, None if the member was not connected."""
        queue, agent_id = (text(v) for v in self.conn.hmget(keys.queue_entry(member),
                                                            ["queue", "agent"]))
        if not queue or not agent_id:
            return None
        cfg = self.config(queue)
        wrap_until = now + cfg.wrap_up_seconds
        handle = self.scripts.finish(
            keys=[keys.queue_entry(member), keys.agent(agent_id), keys.queue_stats(queue),
                  keys.queue_recent_handles(queue)],
            args=[member, to_ms(now), to_ms(wrap_until), self.recent, queue,
                  "1" if cfg.disposition_required else ""])
        if int(handle) < 0:
            return None
        self.trigger.agent_free_at(agent_id, wrap_until)
        return int(handle) / 1000.0
