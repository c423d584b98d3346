"""Whether answered callers' waits fell inside the range they were told, through the real
event stream and writer (SQLite and PostgreSQL) into `queue_visits` (migration 0008) and the
day report: the share inside and the mean width, per queue and day (issue 15)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from ivr.domain.reports import ALL, ReportSettings
from ivr.store import models as m
from ivr.store.events import publish_event
from ivr.store.reports import day_report
from queue_worker.outcomes import drain_events

DAY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC).timestamp()  # 09:00 in Los Angeles
SETTINGS = ReportSettings(timezone="America/Los_Angeles", targets={"support": 20})

# (queue, wait, told range or None, answered)
CALLERS = [("support", 50.0, (30.0, 90.0), True),  # inside, 60 s wide
           ("support", 200.0, (60.0, 180.0), True),  # outside (waited longer), 120 s wide
           ("support", 40.0, (40.0, 130.0), True),  # on the edge counts inside, 90 s wide
           ("support", 30.0, None, True),  # joined before ranges were kept: not counted
           ("support", 100.0, (10.0, 20.0), False),  # hung up: not an answered caller
           ("sales", 10.0, (0.0, 30.0), True)]


def publish(redis) -> None:  # type: ignore[no-untyped-def]
    for i, (queue, wait, told, answered) in enumerate(CALLERS):
        sid, at = f"CA{i:032d}", DAY + 600 * i
        publish_event(redis, "call_started", sid, {"caller": f"+1415555010{i}",
                                                   "dialed": "+1", "flow": "shop"}, at)
        publish_event(redis, "queue_joined", sid, {"queue": queue}, at + 1)
        left = {"queue": queue, "result": "bridged" if answered else "hangup", "wait": wait}
        if told:
            left |= {"range_low": told[0], "range_high": told[1],
                     "in_range": told[0] <= wait <= told[1]}
        if answered:
            publish_event(redis, "agent_answered", sid, {"queue": queue, "agent": "alice"},
                          at + 1 + wait)
        publish_event(redis, "queue_left", sid, left, at + 1 + wait)
        publish_event(redis, "call_ended", sid, {"duration": wait + 60}, at + wait + 60)


def test_share_inside_and_mean_width_per_queue_and_day(redis, db_engine, session_factory):
    publish(redis)
    assert drain_events(redis, session_factory).failed == 0
    with db_engine.connect() as conn:
        stored = conn.execute(select(m.QueueVisitRow.range_low, m.QueueVisitRow.range_high,
                                     m.QueueVisitRow.in_range)
                              .order_by(m.QueueVisitRow.call_sid)).all()
    assert [tuple(r) for r in stored] == [(30.0, 90.0, True), (60.0, 180.0, False),
                                          (40.0, 130.0, True), (None, None, None),
                                          (10.0, 20.0, False), (0.0, 30.0, True)]
    rows = {r.queue: r for r in day_report(db_engine, date(2026, 12, 1), "day", SETTINGS,
                                           datetime(2026, 12, 2, tzinfo=UTC))}
    support, sales, total = rows["support"], rows["sales"], rows[ALL]
    assert (support.ranges_told, support.in_range_share, support.range_width) == (
        3, round(2 / 3, 3), 90.0)
    assert (sales.ranges_told, sales.in_range_share, sales.range_width) == (1, 1.0, 30.0)
    assert (total.ranges_told, total.in_range_share, total.range_width) == (4, 0.75, 75.0)
