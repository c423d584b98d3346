"""The agent floor in the numbers (issue 14 items 5 and 7), through the real event stream and
the real writer into SQLite and PostgreSQL: AHT = (talk + hold + after-call work) / handled
calls per queue and per agent, hold time, transfer rate; the caller history and the call
record carry the floor's lists. The expected figures are worked out by hand below."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from ivr.domain.reports import ALL, ReportSettings
from ivr.store.caller_history import caller_history
from ivr.store.events import publish_event
from ivr.store.reports import agents_since, day_reports
from queue_worker.outcomes import drain_events

SETTINGS = ReportSettings(timezone="America/Los_Angeles")
DAY = date(2026, 12, 1)
T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC).timestamp()  # 10:00 in Los Angeles
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CALLER = "+14155550123"

CALLS = {
    # alice answers, is in the call 80 s of which the caller holds 20 s: talk 60, hold 20,
    # wrap-up 30: 110 s handled
    "CAA": [("call_started", 0, {"caller": CALLER, "dialed": "+14155550100", "flow": "main"}),
            ("queue_joined", 0, {"queue": "support", "skill": "support"}),
            ("queue_left", 30, {"queue": "support", "result": "bridged", "wait": 30.0}),
            ("agent_answered", 30, {"queue": "support", "agent": "alice"}),
            ("hold_started", 50, {"agent": "alice"}),
            ("hold_ended", 70, {"agent": "alice", "seconds": 20.0}),
            ("agent_left", 110, {"agent": "alice", "talk": 80.0, "hold": 20.0}),
            ("call_ended", 110, {"duration": 110.0, "status": "completed"}),
            ("wrap_up", 140, {"agent": "alice", "seconds": 30.0, "ended": "timeout",
                              "extended": 0.0})],
    # alice answers, warm-transfers to bob (alice: 51 talk + 10 wrap-up = 61; bob: 100 talk
    # + 20 wrap-up = 120); a supervisor listens; the call is recorded; the caller hangs up
    "CAB": [("call_started", 1000, {"caller": CALLER, "dialed": "+14155550100", "flow": "main"}),
            ("queue_joined", 1000, {"queue": "support", "skill": "support"}),
            ("queue_left", 1010, {"queue": "support", "result": "bridged", "wait": 10.0}),
            ("agent_answered", 1010, {"queue": "support", "agent": "alice"}),
            ("recording", 1011, {"recording": "RE1", "action": "started", "channels": 2}),
            ("transfer", 1040, {"agent": "alice", "to_type": "agent", "to": "bob",
                                "mode": "warm", "result": "started"}),
            ("monitor", 1045, {"supervisor": "sue", "mode": "listen", "agent": "alice"}),
            ("transfer", 1060, {"agent": "alice", "to_type": "agent", "to": "bob",
                                "mode": "warm", "result": "completed"}),
            ("agent_left", 1061, {"agent": "alice", "talk": 51.0, "hold": 0.0}),
            ("wrap_up", 1071, {"agent": "alice", "seconds": 10.0, "ended": "early"}),
            ("caller_hung_up", 1160, {"agent": "bob"}),
            ("agent_left", 1160, {"agent": "bob", "talk": 100.0}),
            ("call_ended", 1160, {"duration": 160.0, "status": "completed"}),
            ("wrap_up", 1180, {"agent": "bob", "seconds": 20.0, "ended": "disposition",
                               "extended": 0.0})],
    # carol answers a plain bridge (no conference events): 90 s talk + 15 s wrap-up = 105
    "CAC": [("call_started", 2000, {"caller": "+14155550999", "dialed": "+14155550100",
                             "flow": "main"}),
            ("queue_joined", 2000, {"queue": "sales", "skill": "sales"}),
            ("agent_answered", 2005, {"queue": "sales", "agent": "carol"}),
            ("call_ended", 2095, {"duration": 95.0, "status": "completed"}),
            ("wrap_up", 2110, {"agent": "carol", "seconds": 15.0, "ended": "timeout"})],
}


@pytest.fixture
def written(redis, session_factory, db_engine):  # type: ignore[no-untyped-def]
    for sid, events in CALLS.items():
        for kind, t, data in events:
            publish_event(redis, kind, sid, data, T0 + t)
    result = drain_events(redis, session_factory)
    assert result.rejected == 0
    return db_engine


def test_aht_hold_and_transfer_rate_per_queue(written) -> None:
    rows, _ = day_reports(written, DAY, "day", SETTINGS, NOW)
    by_queue = {r.queue: r for r in rows}
    support, sales, total = by_queue["support"], by_queue["sales"], by_queue[ALL]
    assert (support.answered, support.aht, support.talk, support.hold, support.after_call) == (
        2, 85.5, 55.5, 10.0, 20.0)
    assert (support.holds, support.hold_time, support.transfers, support.transfer_rate) == (
        1, 20.0, 1, 0.5)
    assert (sales.answered, sales.aht, sales.talk, sales.transfer_rate) == (1, 105.0, 90.0, 0.0)
    assert (total.answered, total.aht, total.transfer_rate) == (3, 92.0, 0.333)


def test_aht_hold_and_transfers_per_agent(written) -> None:
    _, agents = day_reports(written, DAY, "day", SETTINGS, NOW)
    rows = {a.agent: a for a in agents}
    assert sorted(rows) == ["alice", "bob", "carol"]
    alice, bob, carol = rows["alice"], rows["bob"], rows["carol"]
    assert (alice.handled, alice.aht, alice.hold, alice.holds, alice.hold_time,
            alice.transfers, alice.transfer_rate) == (2, 85.5, 10.0, 1, 20.0, 1, 0.5)
    assert (bob.handled, bob.aht, bob.talk, bob.after_call, bob.transfers) == (
        1, 120.0, 100.0, 20.0, 0)
    assert (carol.handled, carol.aht) == (1, 105.0)
    today = agents_since(written, datetime.fromtimestamp(T0 - 60, UTC))
    assert {a: (r.handled, r.aht) for a, r in today.items()} == {
        "alice": (2, 85.5), "bob": (1, 120.0), "carol": (1, 105.0)}
    _, only_sales = day_reports(written, DAY, "day", SETTINGS, NOW, queue="sales")
    assert [a.agent for a in only_sales] == ["carol"]


def test_the_caller_history_shows_holds_transfers_and_monitoring(written) -> None:
    with Session(written) as session:
        history = caller_history(session, CALLER, now=NOW)
    newest, first = history["calls"]
    assert newest["call_sid"] == "CAB"
    assert (newest["transferred"], newest["talk_s"], newest["after_call_s"]) == (
        True, 151.0, 30.0)
    floor = newest["floor"]
    assert floor["agents"] == ["alice", "bob"]
    assert [(t["to"], t["mode"], t["result"]) for t in floor["transfers"]] == [
        ("bob", "warm", "started"), ("bob", "warm", "completed")]
    assert [(m["supervisor"], m["mode"]) for m in floor["monitoring"]] == [("sue", "listen")]
    assert [(r["recording"], r["channels"]) for r in floor["recordings"]] == [("RE1", 2)]
    assert floor["caller_hung_up"] == {"agent": "bob", "at": datetime.fromtimestamp(
        T0 + 1160, UTC).isoformat(timespec="seconds")}
    assert (first["call_sid"], first["hold_count"], first["hold_s"]) == ("CAA", 1, 20.0)
    assert first["floor"]["work"][0]["holds"] == 1
    assert first["floor"]["caller_hung_up"] is None  # alice left first
