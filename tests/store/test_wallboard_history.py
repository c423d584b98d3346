"""The wallboard's last hour per minute, from visits folded into the database by the real
writer: a page opened now sees callers who waited 30 minutes ago."""

from __future__ import annotations

from dashboards.history import Visit, last_hour, series
from ivr.store.events import publish_event
from queue_worker.outcomes import drain_events

NOW = 1_800_000_000.0 + 30  # 30 s into a minute
MINUTE = NOW - NOW % 60


def slot(history: dict, at: float) -> int:
    return history["minutes"].index(at - at % 60)


def test_series_counts_the_most_waiting_at_once_and_service_level_per_minute():
    start = MINUTE - 30 * 60
    visits = [
        Visit("support", start + 5, start + 15, True, 10.0),       # answered in 10 s
        Visit("support", start + 10, start + 50, True, 40.0),      # overlaps: 2 at once
        Visit("support", start + 55, start + 70, False, None),     # abandons next minute
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
    assert support["waiting"][i + 1] == 1      # the abandoning caller, until start + 70
    assert support["service_level"][i + 1] is None
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
    assert h["service_level"][i] == 0.5  # CA1 within 20 s, CA2 not; CA3 was not answered
    assert h["waiting"][-1] == 1
    assert sum(h["waiting"]) == 4
