"""The flow report's hourly rollups (migration 0011) against a straightforward computation
over the stored steps, on SQLite and PostgreSQL.

Calls are written and rewritten through `call_records.write_record`, the writer's own path,
in transactions of several calls as the writer batches them: a call that goes on (more
visits, its last entry now leads somewhere), whose answer or containment changes, whose flow
becomes known late, rewritten unchanged, and a transaction that rolls back. The report for
whole hours, ragged periods and a part of one hour must equal the figures computed in Python
from every stored step row."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.flow_analytics import StepGroup, node_figures
from ivr.domain.outcome_record import CallRecord, Step
from ivr.store import flow_rollups
from ivr.store import models as m
from ivr.store.call_records import lock_call, write_record
from ivr.store.db import make_engine, make_session_factory, upgrade_database
from ivr.store.flow_analytics import flow_figures
from tests.pg_schemas import fresh_schema

DAY = datetime(2026, 11, 24, 6, tzinfo=UTC)
NODES = ("greet", "main_menu", "ask_order", "lookup", "to_support", "hours", "bye")
DETAILS = ("chose 1", "chose 2", "no input; retry 1 of 2", "invalid input; retry 1 of 2",
           "asked for a human", "found")
TYPES = {"main_menu": "menu", "bye": "hangup"}


def _visits(rng: random.Random, start: float, n: int) -> list[Step]:
    """`n` visits from `start`, on whole quarter seconds (exact sums in any order)."""
    steps, at = [], start
    for _ in range(n):
        node = rng.choice(NODES)
        steps.append(Step("visit", node, at))
        if rng.random() < 0.5:
            steps.append(Step("visit", node, at + 0.25, detail=rng.choice(DETAILS)))
        if rng.random() < 0.2:
            steps.append(Step("input", node, at + 0.5, digits="1"))
        at += rng.randint(1, 1200) / 4
    return steps


def _close(record: CallRecord, ended_at: float) -> CallRecord:
    """What the fold does at the end of a call: left_at, next node and first entries."""
    visits = [s for s in record.steps if s.kind == "visit"]
    for here, after in zip(visits, [*(v.at for v in visits[1:]), ended_at], strict=True):
        here.left_at = after
    entries = [s for s in visits if not s.detail]
    seen: set[str] = set()
    for i, here in enumerate(entries):
        here.next_node = entries[i + 1].node if i + 1 < len(entries) else None
        here.first_entry = here.node not in seen
        seen.add(here.node)
    record.ended_at = ended_at
    return record


def _record(rng: random.Random, sid: str, steps: list[Step], flow: str | None) -> CallRecord:
    record = CallRecord(call_sid=sid, flow=flow, started_at=steps[0].at,
                        answered=rng.random() < 0.4,
                        self_service_contained=rng.choice([None, False, True]))
    record.steps = [Step(s.kind, s.node, s.at, digits=s.digits, detail=s.detail)
                    for s in steps]
    return _close(record, steps[-1].at + rng.randint(0, 400) / 4)


def _write(sessions: sessionmaker[Session], records: list[CallRecord],
           fail: bool = False) -> None:
    with sessions() as session, session.begin():
        for record in records:
            lock_call(session, record.call_sid)
            write_record(session, record)
        if fail:
            raise RuntimeError("the transaction rolls back")


def _stored_steps(engine: Engine) -> list[Any]:
    s = m.CallStepRow
    with engine.connect() as conn:
        return conn.execute(select(s.flow, s.kind, s.node, s.at, s.detail, s.next_node,
                                   s.first_entry, s.answered, s.contained, s.dwell_s,
                                   s.call_sid)).all()


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _expected(steps: list[Any], flow: str, start: datetime, end: datetime) -> list[Any]:
    """Figures straight from the step rows, grouped in Python."""
    groups: dict[tuple[str, str, str | None], list[Any]] = {}
    callers: dict[str, int] = {}
    for row in steps:
        if row.flow != flow or row.kind != "visit" or not start <= _utc(row.at) < end:
            continue
        into = groups.setdefault((row.node, row.detail or "", row.next_node), [0, 0, 0, 0.0])
        into[0] += 1
        into[1] += bool(row.answered)
        into[2] += bool(row.contained)
        into[3] += row.dwell_s or 0.0
        callers[row.node] = callers.get(row.node, 0) + bool(row.first_entry)
    return node_figures([StepGroup(node, det, nxt, n, a, k, t)
                         for (node, det, nxt), (n, a, k, t) in groups.items()], callers, TYPES)


def _rollup_rows(engine: Engine) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    r = m.FlowStepRollupRow
    with engine.connect() as conn:
        rows = conn.execute(select(r.flow, r.hour, r.node, r.detail, r.next_node, r.visits,
                                   r.answered, r.contained, r.first_entries, r.dwell_s)).all()
    return {tuple(row[:5]): tuple(row[5:]) for row in rows if row.visits}


def _write_scripted_day(session_factory: sessionmaker[Session]) -> None:
    """120 calls written, then rewritten as they go on, and a batch that rolls back."""
    rng = random.Random(15)
    base = DAY.timestamp()
    first: dict[str, list[Step]] = {}
    records = []
    for n in range(120):
        sid = f"CA{n:032d}"
        first[sid] = _visits(rng, base + rng.randint(0, 6 * 3600 * 4) / 4, rng.randint(1, 6))
        flow = "other" if n % 10 == 9 else (None if n % 10 == 3 else "shop")
        records.append(_record(rng, sid, first[sid], flow))
    for k in range(0, len(records), 25):
        _write(session_factory, records[k:k + 25])
    later = []
    for n, (sid, steps) in enumerate(first.items()):
        if n % 10 == 3:  # the flow became known with a later event
            later.append(_record(rng, sid, steps, "shop"))
        elif n % 4 == 0:  # the call went on: more visits after the first ones
            more = _visits(rng, steps[-1].at + rng.randint(4, 4000) / 4, rng.randint(1, 3))
            later.append(_record(rng, sid, steps + more, "other" if n % 10 == 9 else "shop"))
        elif n % 4 == 1:  # rewritten as it was (answered and contained drawn again)
            later.append(_record(rng, sid, steps, "other" if n % 10 == 9 else "shop"))
    for k in range(0, len(later), 20):
        _write(session_factory, later[k:k + 20])
    cut = [_record(rng, sid, steps[:1], "shop") for sid, steps in list(first.items())[:30]]
    with pytest.raises(RuntimeError, match="rolls back"):
        _write(session_factory, cut, fail=True)


@pytest.fixture
def written(db_engine: Engine, session_factory: sessionmaker[Session]) -> Engine:
    _write_scripted_day(session_factory)
    return db_engine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def written_once(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 pg_server_url: str | None) -> Iterator[Engine]:
    """The scripted day written once per database for the report checks, which only read
    it (migrating and writing took 1.5-2 s a test, as long as the checks)."""
    if request.param == "sqlite":
        urls: AbstractContextManager[str] = nullcontext(
            f"sqlite:///{tmp_path_factory.mktemp('rollups')}/outcomes.sqlite3")
    elif pg_server_url is None:
        pytest.skip("no PostgreSQL at DATABASE_URL or 127.0.0.1:5432")
    else:
        urls = fresh_schema(pg_server_url)
    with urls as url:
        upgrade_database(url)
        engine = make_engine(url)
        try:
            _write_scripted_day(make_session_factory(engine))
            yield engine
        finally:
            engine.dispose()


PERIODS = [(DAY - timedelta(hours=2), DAY + timedelta(days=1)),       # whole hours
           (DAY + timedelta(minutes=17), DAY + timedelta(hours=5, minutes=37)),  # ragged
           (DAY + timedelta(hours=2, minutes=5), DAY + timedelta(hours=2, minutes=50)),
           (DAY + timedelta(hours=3), DAY + timedelta(hours=4, seconds=1))]


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_report_equals_the_figures_of_the_stored_steps(written_once: Engine, start: datetime,
                                                       end: datetime) -> None:
    steps = _stored_steps(written_once)
    expected = _expected(steps, "shop", start, end)
    got = flow_figures(written_once, "shop", start, end, TYPES)
    assert [f.as_dict() for f in got] == [f.as_dict() for f in expected]
    assert sum(f.entered for f in got) > 20  # the period holds traffic


def test_rollups_equal_a_rebuild_from_the_steps(written: Engine,
                                                session_factory: sessionmaker[Session]) -> None:
    kept = _rollup_rows(written)
    assert {key[0] for key in kept} == {"shop", "other"}
    with session_factory() as session, session.begin():
        flow_rollups.rebuild(session)
    rebuilt = _rollup_rows(written)
    assert kept.keys() == rebuilt.keys()
    for key, counts in kept.items():
        assert counts[:4] == rebuilt[key][:4], key
        assert counts[4] == pytest.approx(rebuilt[key][4], abs=1e-6), key


def test_a_call_moved_to_another_hour_leaves_no_figures_behind(
        db_engine: Engine, session_factory: sessionmaker[Session]) -> None:
    rng = random.Random(3)
    steps = [Step("visit", "greet", DAY.timestamp() + 60)]
    _write(session_factory, [_record(rng, "CA1", steps, "shop")])
    moved = [Step("visit", "main_menu", DAY.timestamp() + 3 * 3600)]
    _write(session_factory, [_record(rng, "CA1", moved, "shop")])
    got = flow_figures(db_engine, "shop", DAY, DAY + timedelta(days=1), TYPES)
    assert [(f.node, f.entered, f.callers) for f in got] == [("main_menu", 1, 1)]
    assert [key[2] for key in _rollup_rows(db_engine)] == ["main_menu"]


def test_migration_fills_the_rollups_from_the_steps_already_stored(db_url: str,
                                                                    written: Engine) -> None:
    from alembic import command

    from ivr.store.db import _alembic_config, upgrade_database

    kept = _rollup_rows(written)
    with written.begin() as conn:  # back to before 0011: the steps stay, the rollups go
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0010_agent_floor")
    upgrade_database(db_url)
    filled = _rollup_rows(written)
    assert kept.keys() == filled.keys()
    for key, counts in kept.items():
        assert counts[:4] == filled[key][:4], key
        assert counts[4] == pytest.approx(filled[key][4], abs=1e-6), key
