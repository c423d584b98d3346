"""The hooks the worker's outcome writer runs after each call record is written.

`record_hooks(config, redis, session_factory)` is called once when the writer starts
(queue_worker/outcomes.py `start_event_writer`); each hook is a `RecordHook(session, record)`
run inside the event's transaction (see the "record hooks" section of outcomes.py). To add
one (the caller-history summary, say), append it here: keep it quick (it holds the call's row
lock), idempotent (the same record may be written many times as events arrive) and free of
network calls (enqueue an RQ job after commit instead, as the follow-up SMS does).
"""

from __future__ import annotations

import logging
from typing import Any

import redis as redis_lib
from rq import Queue

from ivr.outcomes.followup import load_rules_file
from ivr.store.call_records import RecordHook
from ivr.store.caller_summary import CallerSummaryHook, config_summary_ttl
from ivr.store.db import SessionFactory
from ivr.store.jobs import FOLLOWUP_QUEUE
from queue_worker.followup import FollowupHook, requeue_pending_sms

log = logging.getLogger(__name__)


def record_hooks(config: Any, redis: redis_lib.Redis,
                 session_factory: SessionFactory) -> list[RecordHook]:
    """Follow-up tasks (followup.yaml; absent file: none, said in the log), then the caller's
    summary for flows (ivr/store/caller_summary.py; after the tasks, so it counts the task a
    record just opened). A malformed followup.yaml raises FlowErrors: the writer stops with
    FILE:LINE in the log and the events wait in Redis until the file is fixed, so no task is
    silently skipped."""
    hooks: list[RecordHook] = []
    path = config.followup_file
    if path.exists():
        rq = Queue(FOLLOWUP_QUEUE, connection=redis)
        hooks.append(FollowupHook(load_rules_file(path), rq))
        requeue_pending_sms(session_factory, rq)
    else:
        log.warning("no %s: follow-up tasks are off", path)
    hooks.append(CallerSummaryHook(redis, ttl=config_summary_ttl(config)))
    return hooks
