"""The floor state of one caller's conference in Redis (docs/agent-floor.md, "floor state").

One hash per caller CallSid (`keys.floor`), kept for the call-state TTL: the meta fields
(queue, conference SID, hold bookkeeping, recording, ended) and one `leg:<CallSid>` field per
participant holding its JSON. One field per leg, so the webhooks of different legs arriving
together never overwrite each other; a change to one leg is a WATCHed read-modify-write.
Whether a leg is in the conference room (`Leg.in_room`) is a `room:<CallSid>` field of its
own, written only by the conference's status callbacks: a console move writes back what it
changed in the legs it read (`save_move`), and must not undo a participant-join (or a leg's
leaving) that arrived meanwhile.
Reads return `ivr.domain.floor.Floor`. Must not import Flask, RQ or Twilio.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import redis

from ivr.domain.floor import Floor, Leg
from ivr.store import keys
from ivr.store.scripts import text


class FloorStore:
    def __init__(self, conn: redis.Redis, ttl: int = 86_400) -> None:
        self.conn = conn
        self.ttl = ttl

    def create(self, call: str, queue: str, **extra: str) -> None:
        """A new visit to an agent: the floor of the previous visit (if any) is dropped, but
        the SIDs of its rooms are kept (`earlier:<ConferenceSid>`): the new room has the same
        name (`cf-<CallSid>`), and a late callback of an earlier one must not be taken for
        the new room's (`earlier_room`)."""
        key = keys.floor(call)
        before = {text(k): text(v) for k, v in self.conn.hgetall(key).items()}
        earlier = {k: "1" for k in before if k.startswith("earlier:")}
        if before.get("conference"):
            earlier[f"earlier:{before['conference']}"] = "1"
        pipe = self.conn.pipeline(transaction=True)
        pipe.delete(key)
        fields: dict[Any, Any] = {"queue": queue, "recording": "off", **earlier, **extra}
        pipe.hset(key, mapping=fields)
        pipe.expire(key, self.ttl)
        pipe.execute()

    def drop(self, call: str) -> None:
        """Forget the floor of a call that is not live any more (queue_worker/stale_agents.py)."""
        self.conn.delete(keys.floor(call))

    def load(self, call: str) -> Floor | None:
        raw = {text(k): text(v) for k, v in self.conn.hgetall(keys.floor(call)).items()}
        return _floor(call, raw) if raw else None

    def field(self, call: str, name: str) -> str:
        return text(self.conn.hget(keys.floor(call), name)) or ""

    def set(self, call: str, **fields: str) -> None:
        key = keys.floor(call)
        pipe = self.conn.pipeline(transaction=True)
        pipe.hset(key, mapping=dict[Any, Any](fields))
        pipe.expire(key, self.ttl)
        pipe.execute()

    def earlier_room(self, call: str, conference: str) -> bool:
        """True when `conference` is a room of one of the caller's earlier visits."""
        return bool(self.conn.hexists(keys.floor(call), f"earlier:{conference}"))

    def record_of(self, call: str) -> str:
        """The CallSid a floor's outcome events are filed under: the caller's own, or for a
        callback's floor (`cb:<id>`) the call that asked for the callback (its `record`
        field), so the callback's floor events join that call's record."""
        if not call.startswith("cb:"):
            return call
        return self.field(call, "record") or call

    def once(self, call: str, name: str) -> bool:
        """True the first time `name` is claimed for this call (a repeated webhook is a no-op)."""
        return bool(self.conn.hsetnx(keys.floor(call), f"once:{name}", "1"))

    def add_leg(self, call: str, leg: Leg) -> bool:
        """Record a leg unless it is known already (its webhook may come before the REST
        answer that named it). True when added."""
        if not self.conn.exists(keys.floor(call)):
            return False
        if leg.in_room:
            self.in_room(call, leg.leg, True)
        return bool(self.conn.hsetnx(keys.floor(call), f"leg:{leg.leg}", _dump(leg)))

    def in_room(self, call: str, sid: str, present: bool) -> None:
        """The conference says leg `sid` joined (True) or left (False) the room."""
        key = keys.floor(call)
        if not present:
            self.conn.hdel(key, f"room:{sid}")
        elif self.conn.exists(key):
            self.set(call, **{f"room:{sid}": "1"})

    def update_leg(self, call: str, sid: str, change: Callable[[Leg | None], Leg | None]
                   ) -> tuple[Leg | None, Leg | None]:
        """Apply `change` to the stored leg (None when unknown) atomically; `change` returns
        the new leg or None to leave it. Returns (before, after)."""
        key, name = keys.floor(call), f"leg:{sid}"
        out: list[Leg | None] = [None, None]

        def step(pipe: Any) -> None:
            raw = pipe.hget(key, name)
            before = _leg(text(raw)) if raw else None
            after = change(before)
            out[:] = [before, after]
            pipe.multi()
            if after is not None:
                pipe.hset(key, name, _dump(after))
                pipe.expire(key, self.ttl)

        if self.conn.exists(key):
            self.conn.transaction(step, key)
        return out[0], out[1]

    def save(self, floor: Floor) -> None:
        """Write a floor: its meta fields and all its legs."""
        fields = _meta(floor)
        for leg in floor.legs:
            fields[f"leg:{leg.leg}"] = _dump(leg)
        self.set(floor.call, **fields)

    def save_move(self, before: Floor, after: Floor) -> None:
        """Write what a console move changed from `before` to `after`: the meta fields, and
        for each leg the move changed only the changed fields, laid over the leg as stored
        now. The move's REST calls run between its read and this write, and their webhooks
        may have been handled meanwhile: writing the whole snapshot put back `joined` on
        the agent's own leg that consult/complete or hangup had just dropped, which then
        left a second time (two `agent_left`, the talk counted twice)."""
        self.set(after.call, **_meta(after))
        was = {p.leg: asdict(p) for p in before.legs}
        for leg in after.legs:
            old = was.get(leg.leg)
            changed = {k: v for k, v in asdict(leg).items() if old is None or old[k] != v}
            if changed:
                self.update_leg(after.call, leg.leg, _laid_over(leg, changed))


def _laid_over(new: Leg, changed: dict[str, Any]) -> Callable[[Leg | None], Leg | None]:
    """`changed` laid over the stored leg (`new` itself when none is stored)."""
    def change(stored: Leg | None) -> Leg | None:
        return replace(stored, **changed) if stored is not None else new
    return change


def _meta(floor: Floor) -> dict[str, str]:
    return {"held_since": "" if floor.held_since is None else repr(floor.held_since),
            "hold_seconds": repr(floor.hold_seconds), "hold_count": str(floor.hold_count),
            "recording": floor.recording}


def _dump(leg: Leg) -> str:
    data = asdict(leg)
    del data["in_room"]  # its own `room:` field
    return json.dumps(data, separators=(",", ":"))


def _leg(raw: str) -> Leg:
    data = json.loads(raw)
    return Leg(**{k: v for k, v in data.items() if k in Leg.__dataclass_fields__})


def _floor(call: str, raw: dict[str, str]) -> Floor:
    legs = tuple(sorted((replace(_leg(v), in_room=f"room:{k[4:]}" in raw)
                         for k, v in raw.items() if k.startswith("leg:")),
                        key=lambda p: (p.since or float("inf"), p.leg)))
    held = raw.get("held_since") or ""
    return Floor(call=call, queue=raw.get("queue", ""), conference=raw.get("conference") or None,
                  legs=legs, held_since=float(held) if held else None,
                  hold_seconds=float(raw.get("hold_seconds") or 0),
                  hold_count=int(raw.get("hold_count") or 0),
                  recording=raw.get("recording") or "off", ended=raw.get("ended") == "1")
