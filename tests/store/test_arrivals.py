"""Arrivals per 15-minute slot for the staffing advisor (ivr/store/arrivals.py), on SQLite and
PostgreSQL: today up to now, the same weekday of earlier weeks, by the business day's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from ivr.store import models as m
from ivr.store.arrivals import read_arrivals

# Tuesday 2026-11-24, 10:20 in Los Angeles (18:20 UTC): slot 41 (10:15), 5 minutes into it.
NOW = datetime(2026, 11, 24, 18, 20, tzinfo=UTC)
TZ = "America/Los_Angeles"


def visits(engine: Engine, rows: list[tuple[str, datetime]]) -> None:
    calls = [{"call_sid": f"CA{i:032d}", "started_at": at} for i, (_, at) in enumerate(rows)]
    seen = [{"call_sid": f"CA{i:032d}", "seq": 0, "queue": q, "joined_at": at}
            for i, (q, at) in enumerate(rows)]
    with engine.begin() as conn:
        conn.execute(insert(m.CallRow), calls)
        conn.execute(insert(m.QueueVisitRow), seen)


def test_today_and_same_weekdays_by_local_slot(db_engine: Engine) -> None:
    week = timedelta(days=7)
    visits(db_engine, [
        ("support", NOW - timedelta(minutes=1)),  # slot 41, today
        ("support", NOW - timedelta(minutes=6)),  # 10:14: slot 40
        ("support", NOW + timedelta(minutes=1)),  # after now: not yet arrived
        ("support", NOW - week),  # last Tuesday 10:20: slot 41
        ("support", NOW - week + timedelta(hours=3)),  # 13:20: slot 53
        ("support", NOW - 2 * week - timedelta(hours=10, minutes=25)),  # 23:55 Monday: not Tuesday
        ("support", NOW - 3 * week - timedelta(hours=10, minutes=15)),  # 00:05 Tuesday: slot 0
        ("support", NOW - timedelta(days=3)),  # a Saturday: not the pattern
        ("sales", NOW - timedelta(minutes=2)),
        ("billing", NOW - 5 * week),  # beyond the weeks looked at
    ])
    got = read_arrivals(db_engine, ["support", "sales", "billing"], NOW, TZ)
    support = got["support"]
    assert len(support.today) == 42
    assert support.elapsed == 300.0
    assert (support.today[41], support.today[40], sum(support.today)) == (1, 1, 2)
    # weeks 1 and 3 had calls; week 2's only call was Monday night's (within 24 h of that
    # Tuesday in UTC, but Monday's by the local clock); week 4 none: left out, not zeros
    assert len(support.past) == 2
    last_week, three_weeks = support.past
    assert (last_week[41], last_week[53], sum(last_week)) == (1, 1, 2)
    assert (three_weeks[0], sum(three_weeks)) == (1, 1)
    assert sum(got["sales"].today) == 1
    assert got["billing"].today == (0,) * 42
