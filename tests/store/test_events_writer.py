"""The writer under concurrency and failure: two writers on one call, a fold bug on one event,
and the `run_event_writer` loop in a thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import queue_worker.outcomes as writer
from ivr.domain.outcome import fold_call
from ivr.store import events as ev
from ivr.store import models as m
from queue_worker.outcomes import drain_events, run_event_writer
from tests.store.test_events import T0, check_rows, publish_all


def test_two_writers_on_the_same_calls_fold_every_event(
        redis_url: str, redis: redis_lib.Redis,
        session_factory: sessionmaker[Session]) -> None:
    total = publish_all(redis)
    results: list[writer.DrainResult] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        conn = redis_lib.Redis.from_url(redis_url)
        start.wait()
        results.append(drain_events(conn, session_factory, consumer=name, batch=1))
        conn.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sum(r.written for r in results) == total
    assert all(r.failed == 0 for r in results)
    with session_factory() as session:
        check_rows(session)


def test_an_event_that_fails_to_apply_stays_pending_and_the_rest_are_written(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_fold = fold_call

    def fold(call_sid: str, events: Any) -> Any:
        if call_sid == "CA-bug":
            raise ValueError("fold bug")
        return real_fold(call_sid, events)

    ev.publish_event(redis, "node_visited", "CA-bug", {"node": "menu"}, T0)
    ev.publish_event(redis, "node_visited", "CA-ok", {"node": "menu"}, T0 + 1)
    with monkeypatch.context() as patch:
        patch.setattr("ivr.store.call_records.fold_call", fold)
        result = drain_events(redis, session_factory)
    assert (result.written, result.failed, result.unavailable) == (1, 1, None)
    assert ev.pending_count(redis) == 1
    with session_factory() as session:
        assert session.get(m.CallRow, "CA-bug") is None  # rolled back with its ledger row
        ledger = session.scalars(select(m.ProcessedEventRow.call_sid)).all()
        assert ledger == ["CA-ok"]
    fixed = drain_events(redis, session_factory, claim_idle_ms=0)
    assert (fixed.written, fixed.failed) == (1, 0)
    with session_factory() as session:
        call = session.get(m.CallRow, "CA-bug")
        assert call is not None
        assert [s.node for s in call.steps] == ["menu"]


def test_run_event_writer_applies_events_until_stopped(
        redis_url: str, redis: redis_lib.Redis,
        session_factory: sessionmaker[Session]) -> None:
    stop = threading.Event()
    conn = redis_lib.Redis.from_url(redis_url)
    thread = threading.Thread(target=run_event_writer, args=(conn, session_factory),
                              kwargs={"stop": stop, "block_ms": 100, "trim_every": 0.0})
    thread.start()
    try:
        total = publish_all(redis)
        deadline = time.monotonic() + 10
        while ev.backlog(redis) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
        conn.close()
    assert not thread.is_alive()
    assert ev.backlog(redis) == 0  # applied, acknowledged and trimmed
    assert total == 27
    with session_factory() as session:
        check_rows(session)


def test_db_writer_burst_command(redis_url: str, redis: redis_lib.Redis, tmp_path: Any,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ivr.commands.db import command
    from ivr.store.db import make_engine, make_session_factory

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("IVR_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    total = publish_all(redis)
    assert CliRunner().invoke(command, ["events"]).output.strip() == f"stream {total}, pending 0"
    result = CliRunner().invoke(command, ["writer", "--burst"])
    assert result.exit_code == 0, result.output
    assert f"written {total}, duplicates 0, rejected 0, failed 0" in result.output
    assert ev.backlog(redis) == 0
    engine = make_engine(f"sqlite:///{tmp_path}/outcomes.sqlite3")
    try:
        with make_session_factory(engine)() as session:
            check_rows(session)
    finally:
        engine.dispose()


def test_a_merged_callback_request_takes_the_callbacks_outcome(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    """The same number asks twice (two calls); the second request joins the first callback
    (same id). Its outcome lands on the first call, and both rows must show it, whichever
    call's record is written last."""
    for call, t in (("CA-first", 0), ("CA-second", 30)):
        ev.publish_event(redis, "call_started", call, {"caller": "+14155550104",
                                                       "dialed": "+18005550100",
                                                       "flow": "shop"}, T0 + t)
        ev.publish_event(redis, "callback_requested", call,
                         {"callback": "cb-1", "queue": "support", "number": "+14155550104"},
                         T0 + t + 5)
    ev.publish_event(redis, "callback_done", "CA-first", {"callback": "cb-1",
                                                          "result": "completed"}, T0 + 90)
    drain_events(redis, session_factory)
    ev.publish_event(redis, "call_ended", "CA-second", {"duration": 40.0}, T0 + 100)
    drain_events(redis, session_factory)  # rewrites the second call's record
    with session_factory() as session:
        rows = session.execute(select(m.CallbackRow.call_sid, m.CallbackRow.status)
                               .order_by(m.CallbackRow.call_sid)).all()
    assert [tuple(r) for r in rows] == [("CA-first", "completed"), ("CA-second", "completed")]
