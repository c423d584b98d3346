"""Today's wallboard figures, from events folded into the database by the real writer, checked
against numbers computed by hand from the same scripted calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from dashboards.agent_stats import agents_today
from dashboards.history import last_hour
from dashboards.today import today_figures
from ivr.store.arrivals import read_arrivals
from ivr.store.events import publish_event
from ivr.store.models import Base
from queue_worker.outcomes import drain_events

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
T = NOW.timestamp()


def call(redis, sid: str, *events: tuple[str, dict, float]) -> None:
    publish_event(redis, "call_started", sid, {"caller": "+14155550100", "dialed": "+1",
                                               "flow": "shop"}, T)
    for kind, data, at in events:
        publish_event(redis, kind, sid, data, at)


def test_today_figures_match_the_scripted_calls(redis, db_engine, session_factory):
    # answered after 10 s (within the 20 s target) and after 40 s; one abandon; one contained
    call(redis, "CA1", ("queue_joined", {"queue": "support"}, T + 1),
         ("agent_answered", {"queue": "support", "agent": "alice"}, T + 11),
         ("queue_left", {"queue": "support", "result": "bridged", "wait": 10.0}, T + 11),
         ("survey_answer", {"question": "satisfaction", "answer": "5", "score": 5}, T + 100),
         ("call_ended", {"duration": 120.0}, T + 120))
    call(redis, "CA2", ("queue_joined", {"queue": "support"}, T + 1),
         ("agent_answered", {"queue": "support", "agent": "dan"}, T + 41),
         ("queue_left", {"queue": "support", "result": "bridged", "wait": 40.0}, T + 41),
         ("survey_answer", {"question": "satisfaction", "answer": "2", "score": 2}, T + 100),
         ("call_ended", {"duration": 140.0}, T + 140))
    call(redis, "CA3", ("queue_joined", {"queue": "support"}, T + 1),
         ("queue_left", {"queue": "support", "result": "hangup", "wait": 30.0}, T + 31),
         ("call_ended", {"duration": 31.0}, T + 31))
    call(redis, "CA4", ("self_service", {"node": "say_balance", "task": "balance",
                                          "solved": True}, T + 5),
         ("call_ended", {"duration": 20.0}, T + 20))
    call(redis, "CA5", ("self_service", {"node": "lookup", "task": "order", "solved": False},
                        T + 5), ("queue_joined", {"queue": "sales"}, T + 6),
         ("queue_left", {"queue": "sales", "result": "hangup", "wait": 5.0}, T + 11),
         ("call_ended", {"duration": 11.0}, T + 11))
    drain_events(redis, session_factory)
    figures = today_figures(db_engine, NOW)
    # Service level counts the abandon against the target (docs/reports.md): 1 of 3.
    assert figures["queues"]["support"] == {"offered": 3, "answered": 2, "abandoned": 1,
                                            "service_level": 0.333, "asa": 25.0,
                                            # talk 109 and 99 s, no hold, no wrap-up, no
                                            # transfer (AHT: docs/reports.md)
                                            "aht": 104.0, "hold": 0.0, "transfer_rate": 0.0,
                                            # told no range (events before issue 15's)
                                            "ranges_told": 0, "in_range_share": None,
                                            "range_width": None}
    assert figures["queues"]["sales"]["abandoned"] == 1
    assert figures["containment"] == 0.5  # CA4 contained, CA5 needed a person
    assert figures["satisfaction"] == 3.5
    assert figures["surveys"] == 2


def test_the_wallboard_reads_the_day_as_plain_rows_not_entities(redis, db_engine,
                                                                session_factory):
    """The stream service reads the whole day every 10 s. As ORM entities (identity map,
    instance state, each call's `floor` JSON) that cost ~7 KB a call at its peak, and the
    process's RSS grew with every call of the day (issue 12's soak). Rows of the needed
    columns only: no entity is built, the `floor` JSON is not read."""
    call(redis, "CA1", ("queue_joined", {"queue": "support"}, T + 1),
         ("agent_answered", {"queue": "support", "agent": "alice"}, T + 11),
         ("queue_left", {"queue": "support", "result": "bridged", "wait": 10.0}, T + 11),
         ("survey_answer", {"question": "satisfaction", "answer": "5", "score": 5}, T + 100),
         ("call_ended", {"duration": 120.0}, T + 120))
    drain_events(redis, session_factory)
    loaded: list[object] = []
    statements: list[str] = []

    def on_load(target: object, _context: object) -> None:
        loaded.append(target)

    def on_sql(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Base, "load", on_load, propagate=True)
    event.listen(db_engine, "before_cursor_execute", on_sql)
    try:
        figures = today_figures(db_engine, NOW)
        agents = agents_today(db_engine, NOW.replace(hour=0))
    finally:
        event.remove(Base, "load", on_load)
        event.remove(db_engine, "before_cursor_execute", on_sql)
    assert figures["queues"]["support"]["answered"] == 1  # the figures are still read
    assert figures["satisfaction"] == 5.0
    assert agents["alice"]["handled"] == 1
    assert loaded == []
    assert statements
    assert not [s for s in statements if "floor" in s]


def _sql_of_the_boards_reads(db_engine) -> tuple[set[str], dict]:  # type: ignore[no-untyped-def]
    """The SQL texts the wallboard's database reads send (today, agents, the last hour, the
    arrival history), and today's figures."""
    statements: set[str] = set()

    def on_sql(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.add(statement)

    event.listen(db_engine, "before_cursor_execute", on_sql)
    try:
        figures = today_figures(db_engine, NOW)
        agents_today(db_engine, NOW.replace(hour=0))
        last_hour(db_engine, T + 600, ["support", "sales"], {"support": 20.0, "sales": 20.0})
        read_arrivals(db_engine, ["support", "sales"], NOW + timedelta(minutes=10))
    finally:
        event.remove(db_engine, "before_cursor_execute", on_sql)
    return statements, figures


def surveyed_call(redis, sid: str, score: int) -> None:  # type: ignore[no-untyped-def]
    call(redis, sid, ("queue_joined", {"queue": "support"}, T + 1),
         ("agent_answered", {"queue": "support", "agent": "alice"}, T + 11),
         ("queue_left", {"queue": "support", "result": "bridged", "wait": 10.0}, T + 11),
         ("survey_answer", {"question": "satisfaction", "answer": str(score), "score": score},
          T + 100), ("call_ended", {"duration": 120.0}, T + 120))


def test_the_boards_sql_is_the_same_whatever_the_number_of_calls(redis, db_engine,
                                                                 session_factory):
    """The stream service reads the day every 10 s all day. A statement whose SQL text grew
    with the day's calls (`call_sid IN (?, ?, ...)`) was prepared anew for every count and
    kept in the driver's statement cache (pysqlite: 128 per connection, the longest ~50 KB
    each), so the process grew with every call (issue 12's soak: ~0.65 MB a minute). The
    same texts with 1 call as with 4: a cache holds each once."""
    surveyed_call(redis, "CA1", 5)
    drain_events(redis, session_factory)
    one, figures_one = _sql_of_the_boards_reads(db_engine)
    for sid, score in (("CA2", 3), ("CA3", 4), ("CA4", 4)):
        surveyed_call(redis, sid, score)
    drain_events(redis, session_factory)
    four, figures_four = _sql_of_the_boards_reads(db_engine)
    assert (figures_one["surveys"], figures_four["surveys"]) == (1, 4)  # the calls were read
    assert figures_four["satisfaction"] == 4.0
    assert one
    assert four == one
