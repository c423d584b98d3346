"""The per-caller summary in Redis: written by the worker, read by the call-start webhook.

Webhooks never wait on the database, so the outcome writer refreshes this small hash
(`keys.caller_summary(number)`, fields in ivr/domain/caller_history.py) after it writes a call
record, and `queue_start_reads` reads it with one HGETALL when a call starts. The hash expires
SUMMARY_TTL after the caller's last call (sooner when IVR_RETENTION_DAYS is shorter: the
hash is keyed by the number, personal data that must not outlive the calls it came from; see
`summary_ttl`): a number unseen that long is a first-time caller again. A Redis error on the
read is logged and the call goes on as a first-time caller; on the write it is logged and the
summary catches up at the caller's next record. Must not import Flask.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis as redis_lib
from sqlalchemy.orm import Session

from ivr.domain.caller_history import FIRST_TIME, flow_variables
from ivr.domain.outcome_record import CallRecord
from ivr.domain.phone_numbers import canonical_number
from ivr.domain.privacy import policy_from_config
from ivr.store import keys
from ivr.store.caller_history import summary_for
from ivr.store.scripts import text

log = logging.getLogger(__name__)
SUMMARY_TTL = 30 * 24 * 3600  # seconds
FINGERPRINTS = 10_000  # calls whose last summarised state the hook remembers


def summary_ttl(personal_days: int) -> int:
    """Seconds a summary lives after the caller's last call: SUMMARY_TTL, or the personal-data
    retention period when that is shorter (0 or less keeps personal data forever)."""
    if personal_days <= 0:
        return SUMMARY_TTL
    return min(SUMMARY_TTL, personal_days * 86_400)


def config_summary_ttl(config: Any) -> int:
    """`summary_ttl` for the IVR_RETENTION_DAYS in `config` (the worker's retention policy)."""
    return summary_ttl(policy_from_config(config).personal_days)


def is_caller_number(number: str | None) -> bool:
    """Only real numbers get a summary (not `anonymous`, `client:alice` or an empty From)."""
    return bool(number) and canonical_number(number or "").startswith("+")


def write_summary(conn: redis_lib.Redis, number: str, fields: dict[str, str],
                  ttl: int = SUMMARY_TTL) -> None:
    """Replace the hash in one transaction (DEL + HSET + EXPIRE), so a reader never sees
    a half-written summary."""
    key = keys.caller_summary(canonical_number(number))
    with conn.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping=dict(fields))  # type: ignore[arg-type]
        pipe.expire(key, ttl)
        pipe.execute()


def refresh_caller_summary(session: Session, conn: redis_lib.Redis, number: str | None,
                           now: datetime, ttl: int = SUMMARY_TTL) -> bool:
    """Recompute `number`'s summary from the database (inside the writer's transaction, so it
    sees the record just written) and store it. False when there is nothing to store or Redis
    refused (logged: the record itself is safe in the database)."""
    if not number or not is_caller_number(number):
        return False
    fields = summary_for(session, number, now)
    try:
        write_summary(conn, number, fields, ttl)
    except redis_lib.RedisError as exc:
        log.warning("caller summary for %s not refreshed: Redis unavailable (%s)",
                    canonical_number(number), exc)
        return False
    return True


def history_variables(conn: redis_lib.Redis, number: str | None, now: datetime,
                      ) -> dict[str, Any]:
    """`history.*` for a call starting now from `number` (one HGETALL). First-time values
    when the number is unknown, not a number, or Redis does not answer."""
    if not number or not is_caller_number(number):
        return dict(FIRST_TIME)
    try:
        raw = conn.hgetall(keys.caller_summary(canonical_number(number)))
    except redis_lib.RedisError as exc:
        log.warning("caller history for %s unavailable (%s): treating as first-time caller",
                    canonical_number(number), exc)
        return dict(FIRST_TIME)
    return flow_variables({text(k): text(v) for k, v in raw.items()}, now.timestamp())


StartVariables = tuple[dict[str, str], dict[str, Any]]


def queue_start_reads(pipe: Any, number: str | None, now: datetime,
                      ) -> Callable[[list[Any]], StartVariables]:
    """What a call start reads besides its own state: the operator flags (`flags.*`) and the
    caller's history (`history.*`). Queues the two HGETALLs on `pipe` (a pipeline, not a
    transaction: the hashes may live on different Redis Cluster nodes) and returns the
    function that turns their replies into (flags, history). The call-start webhook sends
    them with its own state read (CallStateStore.step `also=`), so they cost no round trip
    of their own. An error on the history read alone (a wrong-typed key, a Cluster node
    away) means a first-time caller; an error on the flags raises, as the call's own state
    read would (the view then answers with the fallback route)."""
    caller = canonical_number(number) if number and is_caller_number(number) else None
    pipe.hgetall(keys.operator_flags())
    if caller:
        pipe.hgetall(keys.caller_summary(caller))

    def parse(replies: list[Any]) -> StartVariables:
        if isinstance(replies[0], Exception):
            raise replies[0]
        flags = {text(k): text(v) for k, v in replies[0].items()}
        if not caller:
            return flags, dict(FIRST_TIME)
        if isinstance(replies[1], Exception):
            log.warning("caller history for %s unavailable (%s): treating as first-time "
                        "caller", caller, replies[1])
            return flags, dict(FIRST_TIME)
        return flags, flow_variables({text(k): text(v) for k, v in replies[1].items()},
                                     now.timestamp())

    return parse


class CallerSummaryHook:
    """The outcome writer's record hook (queue_worker/record_hooks.py): after a call's record
    is written, refresh its caller's summary. Most events (node visits, inputs) change nothing
    a summary holds, so the hook remembers what it last summarised per call and skips a record
    whose outcome, end, surveys and dispositions are unchanged. Follow-up tasks are opened by
    the hook before this one, so their count is current; a task closed later is counted at the
    caller's next record (or call `refresh_caller_summary` where it is closed)."""

    def __init__(self, conn: redis_lib.Redis,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 ttl: int = SUMMARY_TTL) -> None:
        self.conn, self.clock, self.ttl = conn, clock, ttl
        self.seen: OrderedDict[str, tuple[Any, ...]] = OrderedDict()

    def __call__(self, session: Session, record: CallRecord) -> None:
        if not is_caller_number(record.caller):
            return
        print_ = (record.caller, record.outcome, record.ended_at, record.agent,
                  tuple((a.question, a.answer) for a in record.survey_answers),
                  len(record.dispositions), len(record.callbacks),
                  tuple(c.status for c in record.callbacks))
        if self.seen.get(record.call_sid) == print_:
            return
        if refresh_caller_summary(session, self.conn, record.caller, self.clock(), self.ttl):
            self.seen[record.call_sid] = print_
            self.seen.move_to_end(record.call_sid)
            while len(self.seen) > FINGERPRINTS:
                self.seen.popitem(last=False)
