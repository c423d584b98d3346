"""Follow-up tasks in the worker: the outcome writer's hook that opens them, and the RQ job
that texts the customer when a rule has `sms:`.

`FollowupHook` runs inside the writer's transaction after a call record is rewritten
(queue_worker/outcomes.py, "record hooks"): it evaluates the rules (ivr/domain/followup.py)
and opens tasks (ivr/store/tasks.py, unique per rule and call), so a task commits with the
event that caused it, exactly once, and a redelivered event (a no-op in the ledger) opens
nothing. Webhooks never wait on any of this: they only XADD events.

Outreach: a task whose rule has `sms:` is stored with sms_status `pending`; after the commit
the hook enqueues `send_task_sms` (job id `followup-sms-<task id>`). The job marks the task
`sending` in one transaction, sends through Twilio Messaging with the product's twilio client
(the local stand-in without credentials), then records `sent` and the message SID, or
`failed` with the reason in the notes (`cancelled` when the task was closed first). So a text
goes out at most once: a job run twice, or a
crash after `sending`, never sends a second one (a `sending` left behind is visible in the
task). A pending text whose enqueue was lost (Redis down at commit) is enqueued again when
the writer starts (`requeue_pending_sms`). A caller's number we would not call back
(premium rate, satellite, a country no queue serves: ivr/outcomes/outgoing_numbers.py; caller IDs
can be spoofed) is never texted: the task's text is `failed` with the reason in its notes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis as redis_lib
from rq import Queue, get_current_job
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ivr.config.settings import from_env
from ivr.domain.followup import PriorCall, evaluate
from ivr.domain.followup_rules import FollowupRules
from ivr.domain.outcome_record import CallRecord
from ivr.outcomes.outgoing_numbers import outgoing_countries, refusal
from ivr.phone.call_control import TEST_CALLER_ID, build_client
from ivr.store import models as m
from ivr.store.db import SessionFactory, database_url, make_engine, make_session_factory
from ivr.store.tasks import get_task, open_tasks
from queue_worker.context import connection_key

log = logging.getLogger(__name__)
_CONTEXTS: dict[str, FollowupContext] = {}


class FollowupHook:
    """`RecordHook`: open the tasks `rules` ask for after each rewrite of a call record."""

    def __init__(self, rules: FollowupRules, rq: Queue | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self.rq = rq
        self.clock = clock
        windows = [r.within_s for r in rules.rules if r.kind == "repeat_caller"]
        self.history_window = max(windows) if windows else None

    def __call__(self, session: Session, record: CallRecord) -> None:
        now = self.clock()
        proposals = evaluate(record, self.rules, now, self.earlier_calls(session, record))
        if not proposals:
            return
        opened = open_tasks(session, proposals, datetime.fromtimestamp(now, UTC))
        for task in opened:
            log.info("call %s: follow-up task %s opened by rule %s (team %s)", record.call_sid,
                     task.id, task.rule, task.team)
        texts = [t.id for t in opened if t.sms_status == "pending"]
        if texts and self.rq is not None:
            rq = self.rq
            event.listen(session, "after_commit", lambda _s: enqueue_sms(rq, texts), once=True)

    def earlier_calls(self, session: Session, record: CallRecord) -> list[PriorCall]:
        """The number's other calls within the longest repeat-caller window (none needed
        without such a rule, a number or a start time)."""
        if self.history_window is None or not record.caller or record.started_at is None:
            return []
        start = datetime.fromtimestamp(record.started_at, UTC)
        since = datetime.fromtimestamp(record.started_at - self.history_window, UTC)
        rows = session.execute(select(m.CallRow.call_sid, m.CallRow.started_at).where(
            m.CallRow.caller == record.caller, m.CallRow.call_sid != record.call_sid,
            m.CallRow.started_at >= since, m.CallRow.started_at <= start)).all()
        return [PriorCall(sid, _aware(at).timestamp()) for sid, at in rows if at is not None]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def enqueue_sms(rq: Queue, task_ids: list[int]) -> None:
    """After commit: one job per text. Redis trouble is logged, not raised: the text stays
    `pending` in the database and `requeue_pending_sms` enqueues it at the next start."""
    for task_id in task_ids:
        try:
            rq.enqueue(send_task_sms, task_id, job_id=f"followup-sms-{task_id}",
                       job_timeout=60)
        except redis_lib.RedisError:
            log.warning("follow-up task %s: SMS job not queued (Redis unavailable); it stays "
                        "pending until the writer starts again", task_id, exc_info=True)


def requeue_pending_sms(session_factory: SessionFactory, rq: Queue) -> int:
    """Enqueue the texts still `pending` (their job was lost); returns how many."""
    with session_factory() as session:
        ids = list(session.execute(select(m.FollowupTaskRow.id).where(
            m.FollowupTaskRow.sms_status == "pending")).scalars())
    enqueue_sms(rq, ids)
    return len(ids)


@dataclass
class FollowupContext:
    """What the SMS job needs: the outcome database and a twilio Client to send with."""

    session_factory: SessionFactory
    client: Any
    sms_from: str
    countries: frozenset[str] = frozenset({"US"})  # where texts may go (outgoing_numbers.py)


def install_followup_context(conn: redis_lib.Redis, ctx: FollowupContext) -> FollowupContext:
    _CONTEXTS[connection_key(conn)] = ctx
    return ctx


def build_followup_context(config: Any) -> FollowupContext:
    """From a Config: DATABASE_URL (or SQLite under the instance folder) and the REST client
    the call control uses (the stand-in without Twilio credentials)."""
    engine = make_engine(database_url(config.database_url, config.instance_dir),
                         **config.db_pool())
    sender = config.sms_from or config.caller_id or TEST_CALLER_ID
    return FollowupContext(make_session_factory(engine), build_client(config), str(sender),
                           outgoing_countries(config))


def _context(conn: redis_lib.Redis) -> FollowupContext:
    key = connection_key(conn)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = build_followup_context(from_env())
    return _CONTEXTS[key]


def send_task_sms(task_id: int) -> str:
    """RQ job: text the task's customer once. Returns sent, failed or skipped: <status>."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("send_task_sms runs inside an RQ job (see queue_worker/followup.py)")
    ctx = _context(job.connection)
    with ctx.session_factory() as session, session.begin():
        task = get_task(session, task_id, lock=True)
        if task.sms_status != "pending" or not task.caller or not task.sms:
            return f"skipped: {task.sms_status}"
        if task.status == "closed":  # handled before the text went out: no "we'll call you"
            task.sms_status = "cancelled"
            return "skipped: closed"
        refused = refusal(task.caller, ctx.countries)
        if refused is not None:
            log.warning("follow-up task %s: SMS not sent: %s", task_id, refused)
            task.sms_status, task.updated_at = "failed", datetime.now(UTC)
            _note(task, f"SMS not sent: {refused}"[:500], task.updated_at)
            return "skipped: refused"
        task.sms_status = "sending"
        to, body = task.caller, task.sms
    try:
        sender = ({"messaging_service_sid": ctx.sms_from} if ctx.sms_from.startswith("MG")
                  else {"from_": ctx.sms_from})
        message = ctx.client.messages.create(to=to, body=body, **sender)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the task, never retried
        log.warning("follow-up task %s: SMS to %s failed: %s", task_id, to, exc)
        _record_sms(ctx, task_id, "failed", None, f"SMS not sent: {exc}"[:500])
        return "failed"
    _record_sms(ctx, task_id, "sent", str(message.sid), None)
    log.info("follow-up task %s: SMS %s sent to %s", task_id, message.sid, to)
    return "sent"


def _record_sms(ctx: FollowupContext, task_id: int, status: str, sid: str | None,
                note: str | None) -> None:
    now = datetime.now(UTC)
    with ctx.session_factory() as session, session.begin():
        task = get_task(session, task_id, lock=True)
        task.sms_status, task.sms_sid, task.updated_at = status, sid, now
        if status == "sent":
            task.sms_sent_at = now
        if note:
            _note(task, note, now)


def _note(task: m.FollowupTaskRow, note: str, now: datetime) -> None:
    stamp = now.strftime("%Y-%m-%d %H:%M UTC")
    task.notes = ((task.notes + "\n") if task.notes else "") + f"{stamp} {note}"
