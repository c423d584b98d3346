"""Per-call state in Redis: the interpreter's `CallState`, the step counter and the TwiML answers.

Twilio retries a webhook that timed out, with the same CallSid and the same step. To give it the
same answer without doing the side effects twice, every answer is stored under its step number
before it is returned, and a per-call lock serialises two copies of one request racing. All
keys live under `keys.call(...)` with a TTL, so an abandoned call's state cleans itself up.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis
from redis.exceptions import NoScriptError

from ivr.domain.errors import Conflict
from ivr.domain.flow.actions import CallState
from ivr.store import keys
from ivr.store.events import entry_fields, once_id, publish_event
from ivr.store.lean_script import CommandBatch, HeldConnections, LeanScript


@dataclass(frozen=True)
class StoredCall:
    state: CallState
    seq: int
    caller: dict[str, str]


SCRIPT_DIR = Path(__file__).with_name("scripts")
# Extra reads sent with a step's state read: queue commands on the pipeline, return their parser
AlsoRead = Callable[[Any], Callable[[list[Any]], Any]]
LOCK_LEASE_MS = 10_000
RECENT_CALLS = 4096  # calls whose last step this process wrote, kept for commit_if_current


@dataclass
class StepHold:
    """One webhook's hold on a call (`CallStateStore.step`): what was stored, the answer
    already given to this step if Twilio is retrying it, and the lock token that `save`
    releases with its writes."""

    call_sid: str
    stored: StoredCall | None
    answer: str | None
    token: str
    released: bool = False
    also: Any = None


class CallStateStore:
    """Reads and writes per-call state. `ttl` is seconds after the last write. `lean=False`
    (IVR_LEAN_REDIS=0) sends the call scripts through redis-py's regular path."""

    def __init__(self, conn: redis.Redis, ttl: int = 6 * 3600, lean: bool = True,
                 keep: bool = False, blocking: bool = True) -> None:
        self.conn = conn
        self.ttl = ttl
        # the hot path's scripts: see ivr/store/lean_script.py (`keep`: IVR_LEAN_REDIS_KEEP,
        # `blocking`: IVR_LEAN_REDIS_BLOCKING)
        self.held = held = HeldConnections(conn, enabled=lean, keep=keep, blocking=blocking)
        self._begin = LeanScript(held, script_text("call_begin"))
        self._commit = LeanScript(held, script_text("call_commit"))
        self._ended = LeanScript(held, script_text("call_ended"))
        self._recent: OrderedDict[str, StoredCall] = OrderedDict()
        self._recent_lock = threading.Lock()

    @contextmanager
    def step(self, call_sid: str, seq: int, wait: float = 5.0,
             also: AlsoRead | None = None) -> Iterator[StepHold]:
        """Lock the call and read its state and the stored answer to `seq`, in one round trip
        (ivr/store/scripts/call_begin.lua); `save(..., step=)` writes and unlocks in one more.
        A webhook costs two Redis round trips where lock, read, write and unlock took four.
        `also` queues other reads on the same round trip (a pipeline) and returns their
        parser; the parsed result is `StepHold.also`."""
        token = f"{time.monotonic_ns()}"
        keys_ = [keys.call(call_sid), keys.call_responses(call_sid), _lock_key(call_sid)]
        args = [token, LOCK_LEASE_MS, seq]
        deadline = time.monotonic() + wait
        while (begun := self._begin_with(keys_, args, also))[0] is None:
            if time.monotonic() > deadline:
                raise Conflict(f"call {call_sid} is busy in another request")
            time.sleep(0.01)
        raw, extra = begun
        stored = None
        if raw[0] is not None:
            stored = StoredCall(CallState.from_dict(orjson.loads(raw[0])), int(raw[1] or 0),
                                orjson.loads(raw[2] or b"{}"))
        step = StepHold(call_sid, stored, _text(raw[3]), token, also=extra)
        try:
            yield step
        finally:
            if not step.released:
                self._release(call_sid, token)

    def _begin_with(self, keys_: list[str], args: list[Any], also: AlsoRead | None,
                    ) -> tuple[Any, Any]:
        if also is None:
            return self._begin(keys_, args), None
        for _ in range(2):
            batch = CommandBatch()
            parse = also(batch)
            replies = self._begin.with_reads(keys_, args, batch.commands)
            if replies is None:  # no held connection (IVR_LEAN_REDIS=0, pool busy, an error)
                pipe = self.conn.pipeline(transaction=False)
                pipe.evalsha(self._begin.sha, len(keys_), *keys_, *args)
                for command, options in batch.commands:
                    pipe.execute_command(*command, **options)
                replies = pipe.execute(raise_on_error=False)
            if isinstance(replies[0], NoScriptError):  # a Redis restarted without AOF, say
                self.conn.script_load(self._begin.script.script)
                continue
            if isinstance(replies[0], Exception):
                raise replies[0]
            return replies[0], parse(replies[1:])
        raise RuntimeError("call_begin.lua could not be loaded")

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
             events: Sequence[tuple[str, dict[str, Any], float]] = (), *,
             step: StepHold | None = None) -> None:
        """Store the new state, the answer to request `answer_for` and the outcome `events`
        (kind, data, epoch seconds) this step produced in one transaction: a step is either
        wholly recorded or not at all, and one round trip does it all. With `step=` (from
        `step()`) the same script also releases the call's lock."""
        if step is not None:
            self._save_step(call_sid, stored, answer_for, twiml, events, step)
            return
        pipe = self.conn.pipeline(transaction=True)
        for kind, data, at in events:
            publish_event(self.conn, kind, call_sid, data, at, event_id=once_id(kind, call_sid),
                          pipeline=pipe)
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

    def _save_step(self, call_sid: str, stored: StoredCall, answer_for: int, twiml: str,
                   events: Sequence[tuple[str, dict[str, Any], float]], step: StepHold) -> None:
        args = self.commit_args(call_sid, stored, answer_for, twiml, events, step.token)
        self._commit(commit_keys(call_sid), args)
        step.released = True
        self.remember(call_sid, stored)

    # -- a step without the lock -------------------------------------------------------------
    # Most webhooks of a call come to the process that answered its previous one (Twilio keeps
    # its connection open), and then that process knows the call's state: it wrote it. Such a
    # step skips call_begin (one round trip of two) and is recorded only if Redis still agrees
    # (same step, no answer to it yet, no lock held); otherwise nothing was written and the
    # caller takes the locked path, which reads the state afresh (ivr/phone/calls.py advance).

    def recent(self, call_sid: str) -> StoredCall | None:
        """The state this process last wrote for the call, if it is among the recent ones."""
        with self._recent_lock:
            return self._recent.get(call_sid)

    def commit_if_current(self, call_sid: str, stored: StoredCall, answer_for: int, twiml: str,
                          events: Sequence[tuple[str, dict[str, Any], float]]) -> bool:
        """Record a step computed from `recent()` state, unless the call moved on meanwhile
        (then nothing is written and False is returned). Same writes as `save`."""
        args = self.commit_args(call_sid, stored, answer_for, twiml, events, "")
        if self._commit(commit_keys(call_sid), args) == -1:
            self.forget(call_sid)
            return False
        self.remember(call_sid, stored)
        return True

    def forget(self, call_sid: str) -> None:
        with self._recent_lock:
            self._recent.pop(call_sid, None)

    def remember(self, call_sid: str, stored: StoredCall) -> None:
        with self._recent_lock:
            self._recent[call_sid] = stored
            self._recent.move_to_end(call_sid)
            while len(self._recent) > RECENT_CALLS:
                self._recent.popitem(last=False)

    def commit_args(self, call_sid: str, stored: StoredCall, answer_for: int, twiml: str,
                     events: Sequence[tuple[str, dict[str, Any], float]], token: str,
                     ) -> list[Any]:
        args: list[Any] = [self.ttl, token, answer_for, twiml,
                           orjson.dumps(stored.state.to_dict()), stored.seq,
                           orjson.dumps(stored.caller), len(events)]
        for kind, data, at in events:
            args.extend(entry_fields(kind, call_sid, data, at, once_id(kind, call_sid)).values())
        return args

    def ended_unless_queued(self, call_sid: str, entry: Mapping[str, Any],
                            names: Sequence[str]) -> dict[str, str] | None:
        """The status callback in one round trip (scripts/call_ended.lua): None when the call
        never joined a queue and its call_ended stream `entry` (ivr/store/events.py
        entry_fields) is appended; else the call's fields `names` (the first is `queue`),
        and nothing is written."""
        self.forget(call_sid)
        raw = self._ended([keys.call(call_sid), keys.events_stream()],
                          [*entry.values(), *names])
        if not raw:
            return None
        return {name: _text(value) or "" for name, value in zip(names, raw, strict=True)}

    def _release(self, call_sid: str, token: str) -> None:
        # Release only our own lock (it may have expired and been taken by another).
        self.conn.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('del', KEYS[1]) end return 0",
            1,
            _lock_key(call_sid),
            token,
        )

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


@functools.cache
def script_text(name: str) -> str:
    return (SCRIPT_DIR / f"{name}.lua").read_text()


def _lock_key(call_sid: str) -> str:
    return keys.call(call_sid) + ":lock"


def commit_keys(call_sid: str) -> list[str]:
    """KEYS of call_commit.lua: call hash, responses, lock, events stream."""
    return [keys.call(call_sid), keys.call_responses(call_sid), _lock_key(call_sid),
            keys.events_stream()]


def _text(raw: bytes | str | None) -> str | None:
    """Redis replies are bytes unless the client decodes; accept both."""
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw
