"""The outcome writer applies many events per transaction (one commit per event fell minutes
behind 200 concurrent calls on SQLite), with the same rows, hooks and crash safety as one event
per transaction."""

from __future__ import annotations

from typing import Any

import redis as redis_lib
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.outcome_record import CallRecord
from ivr.store import events as ev
from ivr.store import models as m
from queue_worker.outcomes import drain_events
from tests.store.test_events import T0, check_rows, publish_all


def count_commits(session_factory: sessionmaker[Session]) -> list[int]:
    commits = [0]
    engine = session_factory.kw["bind"]

    @event.listens_for(engine, "commit")
    def _commit(_conn: Any) -> None:
        commits[0] += 1

    return commits


def test_events_share_transactions_and_write_the_same_rows(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    total = publish_all(redis)
    commits = count_commits(session_factory)
    result = drain_events(redis, session_factory)
    assert (result.written, result.failed) == (total, 0)
    assert commits[0] < total / 5  # many events per commit (one each before)
    assert ev.pending_count(redis) == 0
    with session_factory() as session:
        check_rows(session)


def test_one_failing_event_keeps_only_itself_pending_and_hooks_run_once_per_event(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    seen: list[str] = []
    committed: list[str] = []

    def hook(session: Session, record: CallRecord) -> None:
        if record.call_sid == "CA-2":
            raise ValueError("hook bug on CA-2")
        seen.append(record.call_sid)
        sid = record.call_sid
        event.listen(session, "after_commit", lambda _s: committed.append(sid), once=True)

    for i in range(4):
        ev.publish_event(redis, "node_visited", f"CA-{i}", {"node": "menu"}, T0 + i)
    result = drain_events(redis, session_factory, hooks=[hook])
    assert (result.written, result.failed) == (3, 1)
    assert ev.pending_count(redis) == 1
    # The batch was rolled back, then applied one by one: only committed records count.
    assert sorted(committed) == ["CA-0", "CA-1", "CA-3"]
    with session_factory() as session:
        ledger = sorted(session.scalars(select(m.ProcessedEventRow.call_sid)).all())
        assert ledger == ["CA-0", "CA-1", "CA-3"]
        assert session.get(m.CallRow, "CA-2") is None


def test_a_failed_commit_acks_nothing_and_the_redelivery_writes_each_event_once(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy.exc import OperationalError

    total = publish_all(redis)
    engine = session_factory.kw["bind"]

    def lost_database(_conn: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    event.listen(engine, "commit", lost_database)
    try:
        down = drain_events(redis, session_factory)
    finally:
        event.remove(engine, "commit", lost_database)
    assert (down.written, down.acked) == (0, [])
    assert down.unavailable is not None
    again = drain_events(redis, session_factory, claim_idle_ms=0)
    assert (again.written, again.duplicates, again.failed) == (total, 0, 0)
    with session_factory() as session:
        check_rows(session)
