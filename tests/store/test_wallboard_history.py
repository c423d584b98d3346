"""The wallboard's last hour per minute, from visits folded into the database by the real
writer: a page opened now sees callers who waited 30 minutes ago."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboards.agent_stats import agents_today
from dashboards.history import Visit, last_hour, series
from ivr.store.events import publish_event
from queue_worker.outcomes import drain_events

NOW = 1_800_000_000.0 + 30  # 30 s into a minute
MINUTE = NOW - NOW % 60
DAY = datetime.fromtimestamp(NOW, UTC).replace(hour=0, minute=0, second=0)


def slot(history: dict, at: float) -> int:
    return history["minutes"].index(at - at % 60)


def test_series_counts_the_most_waiting_at_once_and_service_level_per_minute():
    start = MINUTE - 30 * 60
    visits = [
        Visit("support", start + 5, start + 15, True, 10.0),       # answered in 10 s
        Visit("support", start + 10, start + 50, True, 40.0),      # overlaps: 2 at once
        Visit("support", start + 55, start + 70, False, None, True),  # abandons next minute
        Visit("support", start + 61, start + 63, False, 2.0, True),  # too quick to count
        Visit("support", start + 64, start + 66, False, 2.0),      # left for voicemail
        Visit("support", MINUTE - 400, None, False, None),         # still waiting now
        Visit("sales", start + 20, start + 25, True, 5.0),
        Visit("billing", start, start + 1, True, 1.0),             # not asked for
    ]
    h = series(visits, ["support", "sales"], NOW, {"support": 20.0})
    assert len(h["minutes"]) == 60
    assert h["minutes"][-1] == MINUTE
    support = h["queues"]["support"]
    i = slot(h, start)
    assert support["waiting"][i] == 2
    assert support["service_level"][i] == 0.5  # one of the two answers within 20 s
    assert support["waiting"][i + 1] == 2      # the abandoning caller and a quick hang-up
    assert support["service_level"][i + 1] == 0.0  # the 15 s abandon counts against
    assert support["waiting"][i - 1] == 0
    assert support["waiting"][-1] == 1         # the caller still waiting
    assert support["waiting"][slot(h, MINUTE - 400) - 1] == 0
    assert h["queues"]["sales"]["waiting"][i] == 1
    assert h["queues"]["sales"]["service_level"][i] == 1.0  # default target 20 s
    assert "billing" not in h["queues"]


def test_last_hour_reads_the_folded_visits(redis, db_engine, session_factory):
    t = MINUTE - 30 * 60
    for sid, wait, answered in (("CA1", 10.0, True), ("CA2", 45.0, True), ("CA3", 30.0, False)):
        publish_event(redis, "call_started", sid, {"caller": "+14155550100", "dialed": "+1",
                                                   "flow": "shop"}, t)
        publish_event(redis, "queue_joined", sid, {"queue": "support"}, t + 1)
        if answered:
            publish_event(redis, "agent_answered", sid, {"queue": "support", "agent": "alice"},
                          t + 1 + wait)
        publish_event(redis, "queue_left", sid, {"queue": "support",
                                                 "result": "bridged" if answered else "hangup",
                                                 "wait": wait}, t + 1 + wait)
    publish_event(redis, "call_started", "CA4", {"caller": "+1415", "dialed": "+1",
                                                 "flow": "shop"}, NOW - 5)
    publish_event(redis, "queue_joined", "CA4", {"queue": "support"}, NOW - 5)  # waits now
    publish_event(redis, "call_started", "CA5", {"caller": "+1415", "dialed": "+1",
                                                 "flow": "shop"}, NOW - 7200)
    publish_event(redis, "queue_joined", "CA5", {"queue": "support"}, NOW - 7200)
    publish_event(redis, "queue_left", "CA5", {"queue": "support", "result": "hangup",
                                               "wait": 60.0}, NOW - 7140)  # before the hour
    drain_events(redis, session_factory)
    h = last_hour(db_engine, NOW, ["support"], {"support": 20.0})["queues"]["support"]
    i = 60 - 1 - 30
    assert h["waiting"][i] == 3  # all three at once from t + 1
    assert h["waiting"][i + 1] == 0  # the longest (45 s) ended at t + 46
    assert h["service_level"][i] == 0.333  # CA1 within 20 s; CA2 late; CA3 abandoned
    assert h["waiting"][-1] == 1
    assert sum(h["waiting"]) == 4
    # the agents table: alice answered CA1 and CA2 (talk time unknown until they end)
    assert {a: (r["handled"], r["aht"]) for a, r in agents_today(db_engine, DAY).items()} == {
        "alice": (2, None)}


def test_agents_today_counts_answers_and_mean_talk_time(redis, db_engine, session_factory):
    t = MINUTE - 600
    for sid, agent, talk in (("CA1", "alice", 100.0), ("CA2", "alice", 60.0),
                             ("CA3", "dan", 30.0)):
        publish_event(redis, "call_started", sid, {"caller": "+14155550100", "dialed": "+1",
                                                   "flow": "shop"}, t)
        publish_event(redis, "queue_joined", sid, {"queue": "support"}, t + 1)
        publish_event(redis, "agent_answered", sid, {"queue": "support", "agent": agent}, t + 5)
        publish_event(redis, "queue_left", sid, {"queue": "support", "result": "bridged",
                                                 "wait": 4.0}, t + 5)
        publish_event(redis, "call_ended", sid, {"duration": 5 + talk}, t + 5 + talk)
    drain_events(redis, session_factory)
    assert agents_today(db_engine, DAY) == {  # no holds, no wrap-up: AHT is the talk
        "alice": {"handled": 2, "aht": 80.0, "hold": 0.0, "after_call": 0.0,
                  "transfer_rate": 0.0},
        "dan": {"handled": 1, "aht": 30.0, "hold": 0.0, "after_call": 0.0,
                "transfer_rate": 0.0}}
