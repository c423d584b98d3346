"""Agents in Redis: who they are, what they can do, and their presence.

Owns the agent hashes, the index of agent ids and the per-skill "available" sorted sets
(agent id -> idle-since ms, so the longest-idle agent with a skill is ZRANGE 0 0). Presence
changes go through `presence.lua`, which updates the hash and every index in one step.
Must not import Flask, RQ or Twilio; the routing engine (`redis_queue.py`) uses this.

Agent hash fields: name, address, skills (JSON skill -> 1..5), presence, since (ms),
idle_since (ms), member and token while ringing/on a call, wrap_until (ms) in wrap-up,
device and device_at (ms) (a softphone's registration as the console last said),
missed (unanswered rings in a row), reason (why the system set `away`), away_pending (the
limit was reached while a ring was still theirs: its release makes them away), floor_prev
(the presence an agent had before joining a call outside routing: floor_joined), floor_ring
(the floor is ringing them outside routing: floor_ringing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import redis

from ivr.domain.errors import Conflict, NotFound
from ivr.domain.queueing import SETTABLE_PRESENCE, Agent, Presence
from ivr.store import keys
from ivr.store.scripts import QueueScripts, text

# A person may take themselves from these states to any SETTABLE_PRESENCE state; ringing and
# on_call belong to the engine (the reservation or the call must end first).
_HAND_SETTABLE_FROM = "available,break,offline,wrap_up,away"
AWAY_REASON = "missed %d calls"


def to_ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def agent_from_hash(agent_id: str, raw: Mapping[bytes | str, Any]) -> Agent:
    data = {text(k): text(v) for k, v in raw.items()}
    return Agent(
        id=agent_id,
        name=data.get("name", agent_id),
        address=data.get("address", ""),
        skills={k: int(v) for k, v in json.loads(data.get("skills") or "{}").items()},
        presence=Presence(data.get("presence") or Presence.OFFLINE),
        idle_since=int(data.get("idle_since") or 0) / 1000.0,
        device=data.get("device", ""),
        device_at=int(data.get("device_at") or 0) / 1000.0,
    )


class AgentStore:
    def __init__(self, conn: redis.Redis, scripts: QueueScripts, *,
                 away_after_missed: int = 2) -> None:
        self.conn = conn
        self.scripts = scripts
        self.away_after_missed = away_after_missed

    def upsert(self, agent: Agent, now: float) -> None:
        """Create or update an agent's profile. A new agent starts offline; an existing one
        keeps its presence (re-loading queues.yaml must not log everyone out)."""
        key = keys.agent(agent.id)
        old_skills = self._skills(agent.id)
        pipe = self.conn.pipeline(transaction=True)
        pipe.hset(key, mapping={"name": agent.name, "address": agent.address,
                                "skills": json.dumps(agent.skills, sort_keys=True)})
        pipe.hsetnx(key, "presence", agent.presence.value)
        pipe.hsetnx(key, "since", to_ms(now))
        pipe.hsetnx(key, "idle_since", to_ms(now))
        pipe.sadd(keys.agents_index(), agent.id)
        for skill in set(old_skills) - set(agent.skills):
            pipe.zrem(keys.agents_available(skill), agent.id)
        pipe.execute()
        # re-index under the new skills with the current presence; only if it is still the
        # same (a reservation made meanwhile must not be turned back into "available")
        current = self.get(agent.id)
        self._apply(agent.id, current.presence, now, allowed_from=current.presence.value)

    def get(self, agent_id: str) -> Agent:
        raw = self.conn.hgetall(keys.agent(agent_id))
        if not raw:
            raise NotFound(f"agent {agent_id!r} does not exist; list agents with `ivr agent list`")
        return agent_from_hash(agent_id, raw)

    def many(self, agent_ids: Iterable[str]) -> list[Agent]:
        ids = list(agent_ids)
        pipe = self.conn.pipeline(transaction=False)
        for agent_id in ids:
            pipe.hgetall(keys.agent(agent_id))
        return [agent_from_hash(a, raw) for a, raw in zip(ids, pipe.execute(), strict=True) if raw]

    def all(self) -> list[Agent]:
        ids = sorted(text(a) for a in self.conn.smembers(keys.agents_index()))
        return self.many(ids)

    def detail(self, agent_id: str) -> dict[str, str]:
        """Every stored field (for the API and the CLI)."""
        raw = self.conn.hgetall(keys.agent(agent_id))
        if not raw:
            raise NotFound(f"agent {agent_id!r} does not exist; list agents with `ivr agent list`")
        return {text(k): text(v) for k, v in raw.items()}

    def available_ids(self, skills: Iterable[str], limit: int) -> list[str]:
        """Up to `limit` longest-idle available agents per skill, merged, without repeats."""
        pipe = self.conn.pipeline(transaction=False)
        for skill in sorted(set(skills)):
            pipe.zrange(keys.agents_available(skill), 0, limit - 1)
        seen: dict[str, None] = {}
        for ids in pipe.execute():
            for agent_id in ids:
                seen.setdefault(text(agent_id), None)
        return list(seen)

    def set_presence(self, agent_id: str, state: str, now: float) -> str:
        """Set presence by hand (agent or supervisor). Returns the previous presence.
        Raises ValueError for a state nobody may set by hand, NotFound for an unknown agent
        and Conflict while the agent is ringing or on a call."""
        try:
            target = Presence(state)
        except ValueError:
            raise ValueError(
                f"unknown presence {state!r}; use one of "
                + ", ".join(sorted(p.value for p in SETTABLE_PRESENCE))
            ) from None
        if target not in SETTABLE_PRESENCE:
            raise ValueError(
                f"presence {state!r} is set by the routing engine; set one of "
                + ", ".join(sorted(p.value for p in SETTABLE_PRESENCE))
            )
        old, changed = self._apply(agent_id, target, now, allowed_from=_HAND_SETTABLE_FROM)
        if not old:
            raise NotFound(f"agent {agent_id!r} does not exist; list agents with `ivr agent list`")
        if not changed:
            raise Conflict(f"agent {agent_id!r} is {old}; presence can change when that call ends")
        return old

    def device(self, agent_id: str, state: str, now: float) -> str:
        """Store a softphone's device state ("registered" / "unregistered", from the console's
        `POST /agent/device`) with its time; "" refreshes a registered device (the console's
        poll) and leaves any other alone. Routing offers a `client:` agent calls only while
        registered and fresh (Agent.reachable). Returns the state now stored."""
        if state not in ("registered", "unregistered", ""):
            raise ValueError(f"device state {state!r}: use registered or unregistered")
        out = self.scripts.device(keys=[keys.agent(agent_id), *self.skill_keys(agent_id)],
                                  args=[agent_id, state, to_ms(now)])
        return text(out)

    def drop_from_index(self, agents: Iterable[Agent]) -> None:
        """Take agents routing found unreachable (a stale device) out of the available
        indexes, so they do not hide reachable agents behind them; their next refresh
        (device.lua) puts them back."""
        pipe = self.conn.pipeline(transaction=False)
        for agent in agents:
            for skill in agent.skills:
                pipe.zrem(keys.agents_available(skill), agent.id)
        pipe.execute()

    def ring_missed(self, agent_id: str, now: float) -> bool:
        """A ring offered to this agent went unanswered (no-answer, busy, failed, rejected).
        Counts misses in a row; at `away_after_missed` (IVR_AWAY_AFTER_MISSED) the agent goes
        `away` with the reason "missed N calls", so routing stops ringing an absent person.
        Returns True when the agent is now away. Safe in either order with the release of the
        missed ring's reservation: while the agent is still `ringing` the away is left pending
        and the release (release.lua) applies it. An unknown agent is NotFound."""
        missed, away = self.scripts.ring_missed(
            keys=[keys.agent(agent_id), *self.skill_keys(agent_id)],
            args=[agent_id, to_ms(now), self.away_after_missed, AWAY_REASON])
        if int(missed) < 0:
            raise NotFound(f"agent {agent_id!r} does not exist; list agents with `ivr agent list`")
        return bool(int(away))

    def ring_answered(self, agent_id: str) -> None:
        """The agent answered a ring: the run of missed rings is over (connect.lua does the
        same when the caller is connected)."""
        self.conn.hdel(keys.agent(agent_id), "missed", "away_pending")

    def floor_ringing(self, agent_id: str, member: str, now: float) -> bool:
        """Hold the agent while the floor rings them outside routing (a transfer's target, a
        consult, an added agent; docs/agent-floor.md): `ringing` for that caller, so routing
        does not offer them another caller at the same moment (the available index drops
        them) and a second transfer to them is refused. Not while they ring for or talk to
        another caller: False then (nothing changed). The presence they had is kept
        (`floor_prev`); `floor_joined` makes them on_call, `floor_left` gives it back when
        the ring ends unanswered. `floor_ring` marks a hold that is the floor's, not a routed
        reservation's."""
        old, changed = self._apply(agent_id, Presence.RINGING, now,
                                   allowed_from="available,wrap_up,break,away,offline")
        if changed:
            self.conn.hset(keys.agent(agent_id), mapping={
                "member": member, "floor_prev": old, "floor_ring": "1"})
        return changed

    def floor_joined(self, agent_id: str, member: str, now: float) -> bool:
        """The agent joined a caller's conference outside routing (a transfer's target, a
        consult, a third party; docs/agent-floor.md): on_call with that caller, so routing
        offers them nothing else and the console shows the call. From the floor's own ring
        for this caller (`floor_ringing`), or from a presence of their own; not while they
        ring for or talk to another caller. The presence they had is kept (`floor_prev`) for
        `floor_left`. True when changed."""
        key = keys.agent(agent_id)
        current, ring = (text(v) for v in self.conn.hmget(key, ["member", "floor_ring"]))
        if ring and current == member:
            _, changed = self._apply(agent_id, Presence.ON_CALL, now, allowed_from="ringing")
            self.conn.hdel(key, "floor_ring")
            return changed
        old, changed = self._apply(agent_id, Presence.ON_CALL, now,
                                   allowed_from="available,wrap_up,break,away,offline")
        if changed:
            self.conn.hset(key, mapping={"member": member, "floor_prev": old})
        return changed

    def floor_left(self, agent_id: str, member: str, now: float) -> bool:
        """A consulted or added agent left the conference, or the floor's ring of them ended
        unanswered: back to the presence they had (available after wrap-up or available;
        break, away or offline stay so), at once. The agent who had the call goes to wrap-up
        instead (wrap_up.py start_wrap_up)."""
        ring = text(self.conn.hget(keys.agent(agent_id), "floor_ring"))
        return self._back(agent_id, member, now, "on_call,ringing" if ring else "on_call")

    def free_stale(self, agent_id: str, member: str, now: float) -> bool:
        """The call `member` the agent is ringing for or on is not live any more and nothing
        is left that would end it (the process that would have died: `ivr demo` restarted
        on the same Redis, a worker killed; queue_worker/stale_agents.py): back to the
        presence they had before it (as `floor_left`). True when changed."""
        return self._back(agent_id, member, now, "ringing,on_call")

    def _back(self, agent_id: str, member: str, now: float, allowed_from: str) -> bool:
        key = keys.agent(agent_id)
        current, prev = (text(v) for v in self.conn.hmget(key, ["member", "floor_prev"]))
        if current != member:
            return False
        back = Presence(prev) if prev in ("break", "away", "offline") else Presence.AVAILABLE
        _, changed = self._apply(agent_id, back, now, allowed_from=allowed_from)
        if changed:
            self.conn.hdel(key, "member", "token", "floor_prev", "floor_ring")
        return changed

    def missed_rings(self, agent_id: str) -> int:
        return int(text(self.conn.hget(keys.agent(agent_id), "missed")) or 0)

    def _apply(self, agent_id: str, state: Presence, now: float,
               allowed_from: str) -> tuple[str, bool]:
        skill_keys = [keys.agents_available(s) for s in sorted(self._skills(agent_id))]
        old, changed = self.scripts.presence(
            keys=[keys.agent(agent_id), *skill_keys],
            args=[agent_id, state.value, to_ms(now), allowed_from],
        )
        return text(old), bool(int(changed))

    def _skills(self, agent_id: str) -> dict[str, int]:
        raw = self.conn.hget(keys.agent(agent_id), "skills")
        return {k: int(v) for k, v in json.loads(text(raw) or "{}").items()}

    def skill_keys(self, agent_id: str) -> list[str]:
        """The available-index keys a reservation of this agent must touch."""
        return [keys.agents_available(s) for s in sorted(self._skills(agent_id))]
