"""Per-call state in Redis: the interpreter's `CallState`, the step counter and the TwiML answers.

Twilio retries a webhook that timed out, with the same CallSid and the same step. To give it the
same answer without doing the side effects twice, every answer is stored under its step number
before it is returned, and a per-call lock serialises two copies of one request racing. All
keys live under `keys.call(...)` with a TTL, so an abandoned call's state cleans itself up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from ivr.domain.flow.actions import CallState
from ivr.errors import Conflict
from ivr.store import keys


@dataclass(frozen=True)
class StoredCall:
    state: CallState
    seq: int
    caller: dict[str, str]


class CallStateStore:
    """Reads and writes per-call state. `ttl` is seconds after the last write."""

    def __init__(self, conn: redis.Redis, ttl: int = 6 * 3600) -> None:
        self.conn = conn
        self.ttl = ttl

    def load(self, call_sid: str) -> StoredCall | None:
        raw = self.conn.hmget(keys.call(call_sid), "state", "seq", "caller")
        if raw[0] is None:
            return None
        return StoredCall(
            state=CallState.from_dict(json.loads(raw[0])),
            seq=int(raw[1] or 0),
            caller=json.loads(raw[2] or "{}"),
        )

    def save(self, call_sid: str, stored: StoredCall, answer_for: int, twiml: str,
             events: Sequence[tuple[str, dict[str, Any], float]] = ()) -> None:
        """Store the new state, the answer to request `answer_for` and the outcome `events`
        (kind, data, epoch seconds) this step produced in one transaction: a step is either
        wholly recorded or not at all, and one round trip does it all."""
        from ivr.store.events import publish_event

        pipe = self.conn.pipeline(transaction=True)
        for kind, data, at in events:
            event_id = f"{kind}:{call_sid}" if kind == "call_started" and len(call_sid) < 40 \
                else None
            publish_event(self.conn, kind, call_sid, data, at, event_id=event_id, pipeline=pipe)
        pipe.hset(
            keys.call(call_sid),
            mapping={
                "state": json.dumps(stored.state.to_dict()),
                "seq": stored.seq,
                "caller": json.dumps(stored.caller),
            },
        )
        pipe.hset(keys.call_responses(call_sid), str(answer_for), twiml)
        pipe.expire(keys.call(call_sid), self.ttl)
        pipe.expire(keys.call_responses(call_sid), self.ttl)
        pipe.execute()

    def answer(self, call_sid: str, seq: int) -> str | None:
        """The TwiML already sent for request `seq`, if any (a retried webhook)."""
        raw = self.conn.hget(keys.call_responses(call_sid), str(seq))
        return _text(raw)

    def mark(self, call_sid: str, **fields: str) -> None:
        """Small facts about a call outside the interpreter state (queue, agent, ...)."""
        pipe = self.conn.pipeline(transaction=True)
        pipe.hset(keys.call(call_sid), mapping=dict(fields))  # type: ignore[arg-type]
        pipe.expire(keys.call(call_sid), self.ttl)
        pipe.execute()

    def fields(self, call_sid: str, *names: str) -> dict[str, str]:
        """Several marks at once; a missing one is the empty string."""
        raw = self.conn.hmget(keys.call(call_sid), list(names))
        return {name: _text(value) or "" for name, value in zip(names, raw, strict=True)}

    def field(self, call_sid: str, name: str) -> str | None:
        raw = self.conn.hget(keys.call(call_sid), name)
        return _text(raw)

    @contextmanager
    def locked(self, call_sid: str, wait: float = 5.0) -> Iterator[None]:
        """Serialise work on one call across web processes (a retried webhook racing itself)."""
        lock_key = keys.call(call_sid) + ":lock"
        token = f"{time.monotonic_ns()}"
        deadline = time.monotonic() + wait
        while not self.conn.set(lock_key, token, nx=True, px=10_000):
            if time.monotonic() > deadline:
                raise Conflict(f"call {call_sid} is busy in another request")
            time.sleep(0.01)
        try:
            yield
        finally:
            # Release only our own lock (it may have expired and been taken by another).
            self.conn.eval(
                "if redis.call('get', KEYS[1]) == ARGV[1] then "
                "return redis.call('del', KEYS[1]) end return 0",
                1,
                lock_key,
                token,
            )


def _text(raw: bytes | str | None) -> str | None:
    """Redis replies are bytes unless the client decodes; accept both."""
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw
