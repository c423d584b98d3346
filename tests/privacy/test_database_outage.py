"""The database goes away during a burst of real calls and comes back: every outcome event the
webhooks published is written exactly once (none lost, none twice).

PostgreSQL: the writer reaches it through our own TCP proxy, which is cut (open connections
dropped, new ones refused) and restored; the shared server keeps running. SQLite: another
connection holds an exclusive lock, so the writer's transactions fail with "database is
locked" until it lets go. The calls are signed webhooks through the app (the simulator's
legs, in process); the writer is `run_event_writer`, the worker's own loop, in a thread.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis as redis_lib
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.store import events as ev
from ivr.store import keys
from ivr.store import models as m
from ivr.store.db import make_engine, make_session_factory, upgrade_database
from queue_worker.outcomes import run_event_writer
from tests.privacy.conftest import SURVEY_LINE
from tests.privacy.tcp_proxy import TcpProxy
from tests.web.test_demo_flows import walk

BEFORE, DURING, AFTER = 2, 12, 2  # calls before, during and after the outage


@contextmanager
def writer(redis_url: str, factory: sessionmaker[Session]) -> Iterator[threading.Event]:
    stop = threading.Event()
    conn = redis_lib.Redis.from_url(redis_url)
    thread = threading.Thread(target=run_event_writer, args=(conn, factory), kwargs={
        "stop": stop, "block_ms": 50, "claim_idle_ms": 200, "trim_every": 3600.0,
        "max_backoff": 0.3}, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(10)
        conn.close()


def published_ids(redis: redis_lib.Redis) -> list[str]:
    return [f[b"id"].decode() for _, f in redis.xrange(keys.events_stream())]


def wait_for(done: Callable[[], bool], timeout: float = 20.0) -> float:
    start = time.monotonic()
    while not done():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


def burst_through_outage(app: Flask, redis: redis_lib.Redis, redis_url: str,
                         factory: sessionmaker[Session], check: sessionmaker[Session],
                         cut: Callable[[], None], restore: Callable[[], None]) -> dict:
    def ledger() -> int:
        with check() as session:
            return session.execute(select(func.count()).select_from(m.ProcessedEventRow)).scalar()

    def calls(n: int) -> list[str]:
        return [walk(app, SURVEY_LINE, "press 5; press 1", caller=f"+1415555{i:04d}").call_sid
                for i in range(n)]

    sids: list[str] = []
    with writer(redis_url, factory):
        sids += calls(BEFORE)
        wait_for(lambda: ledger() == len(published_ids(redis)))
        written_before = ledger()
        cut()
        sids += calls(DURING)                       # webhooks never wait on the database
        time.sleep(0.5)                             # the writer meets the outage meanwhile
        during = ledger()
        burst = len(published_ids(redis)) - written_before
        pending = ev.pending_count(redis)
        restore()
        sids += calls(AFTER)
        total = len(published_ids(redis))
        seconds = wait_for(lambda: ledger() == total and ev.pending_count(redis) == 0)
    ids = published_ids(redis)
    with check() as session:
        logged = session.execute(select(m.ProcessedEventRow.event_id)).scalars().all()
        answers = {sid: tuple(sorted((a.question, a.answer) for a in session.get(m.CallRow, sid)
                                     .survey_answers)) for sid in sids}
    assert during == written_before                 # nothing was written while it was down
    assert pending > 0 or burst > 0
    assert len(ids) == len(set(ids)) == total
    assert sorted(logged) == sorted(ids)            # every event once: none lost, none twice
    assert set(answers.values()) == {(("resolved", "yes"), ("satisfaction", "5"))}
    assert len(answers) == BEFORE + DURING + AFTER
    return {"burst_events": burst, "total_events": total, "pending_at_restore": pending,
            "drain_seconds": round(seconds, 2)}


def test_postgresql_cut_during_a_burst_loses_nothing(
        survey_app: Flask, redis, redis_url: str, pg_schema_url: str, capsys):
    upgrade_database(pg_schema_url)
    proxy = TcpProxy("127.0.0.1", 5432)
    through = pg_schema_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
    assert through != pg_schema_url
    engine = make_engine(through, connect_args={"connect_timeout": 2})
    direct = make_engine(pg_schema_url)
    try:
        figures = burst_through_outage(survey_app, redis, redis_url,
                                       make_session_factory(engine),
                                       make_session_factory(direct), proxy.cut, proxy.restore)
    finally:
        proxy.close()
        engine.dispose()
        direct.dispose()
    assert proxy.refused > 0                        # the writer really tried while it was cut
    with capsys.disabled():
        print(f"\nPostgreSQL outage: {figures}")


def test_sqlite_locked_during_a_burst_loses_nothing(
        survey_app: Flask, redis, redis_url: str, tmp_path, capsys):
    path = tmp_path / "outage.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url, connect_args={"timeout": 0.2})  # locked: fail fast, retry later
    reader = create_engine(url)  # plain reads (WAL lets them past the writer's lock)
    holder: dict[str, sqlite3.Connection] = {}

    def lock() -> None:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        holder["lock"] = conn

    def unlock() -> None:
        holder.pop("lock").rollback()

    try:
        figures = burst_through_outage(survey_app, redis, redis_url,
                                       make_session_factory(engine),
                                       make_session_factory(reader), lock, unlock)
    finally:
        if "lock" in holder:
            holder["lock"].close()
        engine.dispose()
        reader.dispose()
    with capsys.disabled():
        print(f"\nSQLite outage: {figures}")


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
