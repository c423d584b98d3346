"""Data for browser tests, made the way the product makes it: outcome events folded into the
app's own database by the real writer, follow-up tasks opened through ivr/store/tasks.py."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from ivr.domain.followup import TaskProposal
from ivr.store.db import make_session_factory
from ivr.store.events import publish_event
from ivr.store.tasks import open_tasks
from queue_worker.outcomes import drain_events


def sessions(app: Flask) -> Any:
    from dashboards.auth import user_engine

    with app.app_context():
        return make_session_factory(user_engine())


def past_call(app: Flask, sid: str, caller: str, at: float, *, queue: str = "support",
              agent: str | None = "dan", wait: float = 12.0,
              floor: tuple[tuple[str, float, dict[str, Any]], ...] = ()) -> None:
    """A finished call from `caller` at `at` that queued and (with `agent`) was answered;
    `floor`: the agent floor's events on it (kind, seconds after `at`, data)."""
    conn = app.extensions["ivr"].redis
    publish_event(conn, "call_started", sid, {"caller": caller, "dialed": "+14155550100",
                                              "flow": "shop"}, at)
    publish_event(conn, "queue_joined", sid, {"queue": queue}, at + 1)
    if agent:
        publish_event(conn, "agent_answered", sid, {"queue": queue, "agent": agent},
                      at + 1 + wait)
    publish_event(conn, "queue_left", sid, {"queue": queue, "result": "bridged" if agent
                                            else "hangup", "wait": wait}, at + 1 + wait)
    for kind, after, data in floor:
        publish_event(conn, kind, sid, data, at + after)
    publish_event(conn, "call_ended", sid, {"duration": 90.0}, at + 90)
    drain_events(conn, sessions(app))


def task(app: Flask, sid: str, caller: str, reason: str, *, rule: str = "abandoned_after_wait",
         team: str = "support", priority: int = 2, due_in: float = 3600.0,
         transcript: str | None = None) -> int:
    """Open a follow-up task on call `sid` (which must exist: past_call) and return its id."""
    proposal = TaskProposal(rule=rule, call_sid=sid, caller=caller, reason=reason,
                            priority=priority, team=team, due_at=time.time() + due_in,
                            transcript=transcript,
                            transcript_status="ready" if transcript else None)
    from datetime import UTC, datetime

    with sessions(app)() as session, session.begin():
        opened = open_tasks(session, [proposal], datetime.now(UTC))
        return opened[0].id
