"""Outcome events on a Redis stream: publishing (webhooks, jobs) and consuming (the writer).

Owns the wire format of `keys.events_stream()` and the consumer-group plumbing. Webhooks never
wait on the database: they XADD one small entry (~200-400 bytes) and return; the writer
(`queue_worker/outcomes.py`) applies entries to SQL later. Must not import Flask or SQL.

Entry fields: `id` (event id, uuid4 hex unless the publisher passes a stable one; the
database's exactly-once key), `kind`, `call` (CallSid), `at` (epoch seconds, UTC, as text),
`data` (compact JSON). Kinds and their `data` (ivr/domain/outcome_events.py EVENT_FIELDS is the
checked definition; `?` marks optional fields, extra fields are allowed):

| kind | data |
| --- | --- |
| call_started | caller, dialed, flow, flow_version? |
| nodes_visited | nodes (the node ids one step passed, in order), details? (list, same length) |
| node_visited | node (one visit; written by earlier versions, still read) |
| input | node, digits?, speech?, confidence? (0..1) |
| self_service | node, task, solved (bool) |
| queue_joined | queue, skill? |
| queue_left | queue, result (bridged, hangup, timeout, callback, voicemail, overflow), wait? (s), |
| | range_low?, range_high? (s: the range the caller was told), in_range? (bool: wait inside it) |
| agent_answered | queue, agent |
| call_ended | duration? (s), status? (Twilio CallStatus) |
| callback_requested | callback (id), queue, number |
| callback_attempt | callback, attempt (from 1), result (answered, no-answer, busy, failed), |
| | leg_sid? (outbound CallSid), agent? |
| callback_done | callback, result (completed, gave_up, cancelled) |
| voicemail_recorded | recording (RecordingSid), url, duration? (s), queue? |
| transcript_ready | recording, text, confidence? |
| survey_answer | question, answer ("" = no valid answer), score? (int); by SMS also |
| | channel ("sms"), message (MessageSid), text (the reply, personal) |
| sms_survey_sent | question, message (MessageSid of the survey SMS) |
| disposition | agent, code, notes?, tags? (list of str) |
| tag | tag |

`call` is always the caller's original CallSid; callback events carry the outbound leg as
`leg_sid`, so a callback's attempts land on the call that asked for it.

Trimming. XADD here uses no MAXLEN: a cap trims the oldest entries whether or not the writer
has applied them, so a database outage longer than the cap would lose outcomes. (Redis 8.2's
`XADD ... ACKED` would do it server-side; we support 6.2+, and this machine runs 7.0.) Instead
the writer calls `trim_processed`, which XTRIMs with MINID up to the oldest entry any consumer
group still needs: its oldest pending id, or one past its last-delivered id when nothing is
pending. Everything below is delivered and acknowledged; unread entries are above it. During
an outage the stream grows instead (roughly 300-500 MB per million events); `backlog` and
`pending_count` report it for an alert (`ivr db events`).
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from typing import Any

import orjson
import redis as redis_lib

from ivr.domain.outcome_events import BadEvent, check_event, event_problems
from ivr.store import keys

_random = random.Random()  # reseeded after fork, as the module-level generator is
os.register_at_fork(after_in_child=_random.seed)
GROUP = "outcome-writer"
MAX_ID = 64  # event ids and CallSids (Twilio's are 34 characters)
# Events that happen once per call get a stable id, so a webhook Twilio retries (same
# CallSid) cannot write them twice: the database writer keeps one row per event id.
ONCE_PER_CALL = ("call_started", "call_ended")


# uuid.UUID(int=n, version=4) clears these bits of n and sets those (RFC 4122's variant and
# version 4); `new_event_id` does the same arithmetic without building the UUID object.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)


def new_event_id() -> str:
    """A random 128-bit id in uuid4's hex form. From `random` rather than uuid4's os.urandom:
    ids only need to be unique (the database's exactly-once key), not unguessable, and a
    step publishes several events, each a getrandom() system call with uuid4. The generator
    is seeded from the OS at start and again in every forked process (gunicorn workers).
    Exactly `uuid.UUID(int=bits, version=4).hex` for the same bits (tests/store/
    test_events.py), at a third of its cost: one of these per webhook (issue 13 item 3)."""
    return "%032x" % (_random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET)


def once_id(kind: str, call_sid: str) -> str | None:
    """The stable event id of a once-per-call event; None for other kinds (a fresh uuid),
    or when the CallSid is too long to make one (not a Twilio CallSid: no dedup key)."""
    event_id = f"{kind}:{call_sid}" if kind in ONCE_PER_CALL else None
    return event_id if event_id and len(event_id) <= MAX_ID else None


def publish_event(redis: redis_lib.Redis, kind: str, call_sid: str, data: dict[str, Any],
                  at: float, *, event_id: str | None = None,
                  pipeline: Any | None = None) -> str:
    """Append one outcome event; returns its event id. With `pipeline=` the XADD is queued on
    it (so it commits with the caller's other writes) and nothing is sent here.

    Raises BadEvent for an unknown kind or a payload that breaks EVENT_FIELDS: a typo in a
    publisher fails its own test instead of a row nobody can read."""
    fields = entry_fields(kind, call_sid, data, at, event_id)
    (pipeline if pipeline is not None else redis).xadd(keys.events_stream(), fields)
    return str(fields["id"])


def entry_fields(kind: str, call_sid: str, data: dict[str, Any], at: float,
                 event_id: str | None = None) -> dict[Any, Any]:
    """The stream entry of one event, checked (BadEvent), in wire order: id, kind, call, at,
    data. Scripts that XADD with other writes (ivr/store/scripts/call_commit.lua) use it too."""
    check_event(kind, data)
    event_id = event_id or new_event_id()
    if not call_sid or len(call_sid) > MAX_ID or len(event_id) > MAX_ID:
        raise BadEvent(f"{kind}: call_sid and event_id must be 1 to {MAX_ID} characters")
    return {"id": event_id, "kind": kind, "call": call_sid, "at": repr(float(at)),
            "data": orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()}


@dataclass(frozen=True)
class StreamEvent:
    """One decoded entry. `error` is set when it cannot be applied (bad JSON, unknown kind,
    wrong payload); such events are recorded as rejected, never retried."""

    stream_id: str
    event_id: str
    kind: str
    call_sid: str | None
    at: float
    data: dict[str, Any]
    error: str | None = None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode(stream_id: Any, fields: dict[Any, Any]) -> StreamEvent:
    """The event in a raw stream entry (bytes or str fields); never raises."""
    raw = {_text(k): _text(v) for k, v in fields.items()}
    sid = _text(stream_id)
    kind = raw.get("kind", "")
    call_sid = raw.get("call") or None

    def event(at: float, data: dict[str, Any], error: str | None) -> StreamEvent:
        # Ids are cut so even a rejected entry fits its ledger row (the error says why).
        return StreamEvent(stream_id=sid, event_id=(raw.get("id") or f"stream:{sid}")[:MAX_ID],
                           kind=kind[:32], call_sid=call_sid and call_sid[:MAX_ID], at=at,
                           data=data, error=error)

    try:
        at = float(raw["at"])
        data = orjson.loads(raw.get("data", "{}"))
    except (KeyError, ValueError, TypeError) as exc:
        return event(0.0, {"raw": raw}, f"unreadable entry: {exc}")
    if not isinstance(data, dict):
        return event(at, {"raw": raw}, "data is not a JSON object")
    problems = event_problems(kind, data)
    if not call_sid:
        problems.append("call is missing")
    if max(len(call_sid or ""), len(raw.get("id", ""))) > MAX_ID:
        problems.append(f"call or id longer than {MAX_ID} characters")
    return event(at, data, "; ".join(problems) or None)


def default_consumer() -> str:
    """A consumer name unique to this process, so XAUTOCLAIM can tell a dead writer's work."""
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(redis: redis_lib.Redis, group: str = GROUP) -> None:
    """Create the consumer group at the stream's start (id 0), so events published before the
    first writer ever ran are applied too. Idempotent."""
    try:
        redis.xgroup_create(keys.events_stream(), group, id="0", mkstream=True)
    except redis_lib.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_new(redis: redis_lib.Redis, group: str, consumer: str, count: int,
             block_ms: int | None) -> list[StreamEvent]:
    """Entries never delivered to the group (`>`). block_ms None or 0 returns at once (Redis
    would read BLOCK 0 as "forever")."""
    reply: Any = redis.xreadgroup(group, consumer, {keys.events_stream(): ">"}, count=count,
                             block=block_ms or None)
    return [decode(sid, fields) for _stream, entries in reply or [] for sid, fields in entries]


def claim_stale(redis: redis_lib.Redis, group: str, consumer: str, min_idle_ms: int,
                count: int) -> list[StreamEvent]:
    """Pending entries idle for at least `min_idle_ms` (a writer that crashed, or one that
    failed to write them), now owned by `consumer`; one XAUTOCLAIM sweep, at most `count`."""
    events: list[StreamEvent] = []
    start = "0-0"
    while len(events) < count:
        reply: Any = redis.xautoclaim(keys.events_stream(), group, consumer, min_idle_ms,
                                 start_id=start, count=count - len(events))
        start = _text(reply[0])
        entries: list[Any] = reply[1]
        # Entries trimmed while pending come back as None fields; our trim policy never does
        # that, and there is nothing left to apply if it happens.
        events.extend(decode(sid, fields) for sid, fields in entries if fields)
        if start == "0-0":
            break
    return events


def ack(redis: redis_lib.Redis, group: str, stream_ids: list[str]) -> None:
    if stream_ids:
        redis.xack(keys.events_stream(), group, *stream_ids)


def pending_count(redis: redis_lib.Redis, group: str = GROUP) -> int:
    """Delivered but not acknowledged entries (waiting for the database, or in flight)."""
    try:
        return int(redis.xpending(keys.events_stream(), group)["pending"])
    except redis_lib.ResponseError:  # no stream or group yet: nothing pending
        return 0


def backlog(redis: redis_lib.Redis) -> int:
    """Entries held in the stream (applied ones are removed by trim_processed)."""
    return int(redis.xlen(keys.events_stream()))


def _id_tuple(stream_id: Any) -> tuple[int, int]:
    ms, _, seq = _text(stream_id).partition("-")
    return int(ms), int(seq or 0)


def trim_processed(redis: redis_lib.Redis) -> int:
    """Remove entries every consumer group has applied and acknowledged; returns how many.
    Without a group nothing is trimmed: no writer has seen those events yet."""
    stream = keys.events_stream()
    try:
        groups = redis.xinfo_groups(stream)
    except redis_lib.ResponseError:
        return 0
    keep_from: tuple[int, int] | None = None
    for group in groups:
        # With nothing pending, everything up to last-delivered is acknowledged; MINID keeps
        # ids >= its argument, so aim one past it. Otherwise keep from the oldest pending.
        ms, seq = _id_tuple(group["last-delivered-id"])
        needed = (ms, seq + 1)
        if int(group["pending"]):
            needed = _id_tuple(redis.xpending(stream, _text(group["name"]))["min"])
        keep_from = needed if keep_from is None else min(keep_from, needed)
    if keep_from is None or keep_from == (0, 0):
        return 0
    return int(redis.xtrim(stream, minid=f"{keep_from[0]}-{keep_from[1]}", approximate=False))
