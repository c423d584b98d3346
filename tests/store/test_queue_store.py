from __future__ import annotations

import pytest

from ivr.domain.errors import Conflict, NotFound
from ivr.store import keys
from tests.store.queue_fixtures import NOW, go_available, make_service


@pytest.fixture
def svc(redis):
    return make_service(redis)


def test_join_orders_by_priority_then_time_and_is_idempotent(svc, redis):
    assert svc.join("CA1", "support", NOW).position == 1
    assert svc.join("CA2", "support", NOW + 5).position == 2
    assert svc.join("CA3", "support", NOW + 9, priority=4).position == 1
    again = svc.join("CA2", "support", NOW + 20)
    assert (again.accepted, again.created, again.position) == (True, False, 3)
    assert [svc.position(c) for c in ("CA3", "CA1", "CA2", "CA9")] == [1, 2, 3, None]
    assert redis.zcard(keys.queue_waiting("support")) == 3
    assert svc.trigger.changed.count(("support", "joined")) == 3


def test_full_queue_refuses_and_names_overflow(svc):
    for i in range(5):
        assert svc.join(f"CA{i}", "support", NOW + i).accepted
    refused = svc.join("CAX", "support", NOW + 9)
    assert (refused.accepted, refused.reason, refused.overflow_action) == (
        False, "queue-full", "voicemail")
    assert svc.position("CAX") is None
    with pytest.raises(NotFound, match="queues.yaml"):
        svc.join("CAY", "nope", NOW)


def test_leave_records_abandon_and_ignores_our_own_redirect(svc):
    svc.join("CA1", "support", NOW)
    svc.join("CA2", "support", NOW + 1)
    svc.join("CA3", "support", NOW + 2)
    assert svc.leave("CA1", "hangup", NOW + 40).wait == 40
    assert svc.leave("CA2", "redirected", NOW + 41).state == "waiting"
    assert svc.leave("CA3", "leave", NOW + 50).state == "waiting"
    assert svc.position("CA2") == 1
    assert svc.position("CA3") is None
    snap = svc.snapshot("support", NOW + 60, "CA2")
    assert (snap.queue_len, snap.position, snap.abandoned, snap.abandoned_wait_total) == (
        1, 1, 1, 40.0)
    assert snap.counters["left"] == 1
    assert snap.longest_wait == 59.0


def test_route_longest_idle_agent_and_relaxed_proficiency(svc):
    go_available(svc, "alice", "bob", "dan")  # alice idle longest, then bob, then dan
    svc.join("CA1", "support", NOW)
    svc.join("CA2", "support", NOW + 1)
    svc.join("CA3", "support", NOW + 2)
    pairs = {r.member: r.agent.id for r in svc.route("support", NOW + 5).reservations}
    # bob (level 2) does not qualify before 30 s; CA3 waits
    assert pairs == {"CA1": "alice", "CA2": "dan"}
    assert svc.position("CA3") == 1
    assert svc.route("support", NOW + 20).reservations == []
    late = svc.route("support", NOW + 33).reservations
    assert [(r.member, r.agent.id) for r in late] == [("CA3", "bob")]


def test_reservation_lifecycle_and_estimator_stats(svc):
    go_available(svc, "alice")
    svc.join("CA1", "support", NOW)
    (res,) = svc.route("support", NOW + 2).reservations
    assert svc.agents.get("alice").presence == "ringing"
    assert svc.route("support", NOW + 3).reservations == []  # nobody reserved twice
    assert svc.bridge_target("CA1", "alice", "wrong-token") is None
    assert svc.begin_bridge(res.token, NOW + 3).member == "CA1"
    svc.bridge_sent(res.token)
    assert svc.begin_bridge(res.token, NOW + 3) is None  # a retried job does not bridge twice
    assert svc.bridge_target("CA1", "alice", res.token).address == "client:alice"
    assert svc.bridge_answered("CA1", res.token, NOW + 8) == 8.0
    assert svc.bridge_answered("CA1", res.token, NOW + 9) is None
    assert svc.call_ended("CA1", NOW + 128) == 120.0
    assert svc.call_ended("CA1", NOW + 129) is None
    assert svc.agents.get("alice").presence == "wrap_up"
    assert svc.trigger.free == [("alice", NOW + 138)]
    assert not svc.end_wrap_up("alice", NOW + 130)
    assert svc.end_wrap_up("alice", NOW + 138)
    snap = svc.snapshot("support", NOW + 140)
    assert (snap.recent_waits, snap.recent_handle_times, snap.answered) == ([8.0], [120.0], 1)
    assert (snap.agents_idle, snap.agents_staffed, snap.agents_by_state["offline"]) == (1, 1, 2)


def test_no_answer_puts_caller_back_with_same_place(svc, redis):
    go_available(svc, "alice")
    svc.join("CA1", "support", NOW)
    score_before = redis.zscore(keys.queue_waiting("support"), "CA1")
    (res,) = svc.route("support", NOW + 2).reservations
    svc.join("CA2", "support", NOW + 3)
    assert svc.position("CA2") == 1
    assert svc.dial_finished("CA1", res.token, "no-answer", NOW + 25) == "requeued"
    assert redis.zscore(keys.queue_waiting("support"), "CA1") == score_before
    assert svc.position("CA1") == 1
    assert svc.position("CA2") == 2
    assert svc.agents.get("alice").presence == "break"


def test_expired_lease_is_undone_and_agent_keeps_idle_place(svc):
    go_available(svc, "alice", "dan")
    svc.join("CA1", "support", NOW)
    (res,) = svc.route("support", NOW + 1).reservations
    assert res.agent.id == "alice"
    assert svc.expire_leases(NOW + 5) == 0
    assert svc.expire_leases(NOW + 12) == 1  # default lease 10 s, never bridged
    assert svc.position("CA1") == 1
    again = svc.route("support", NOW + 13).reservations
    assert [(r.member, r.agent.id) for r in again] == [("CA1", "alice")]
    assert svc.bridge_target("CA1", "alice", res.token) is None  # the old token is stale


def test_hangup_while_ringing_frees_the_agent(svc):
    go_available(svc, "alice")
    svc.join("CA1", "support", NOW)
    (res,) = svc.route("support", NOW + 1).reservations
    assert svc.leave("CA1", "hangup", NOW + 4).state == "reserved"
    assert svc.agents.get("alice").presence == "available"
    assert svc.reservation(res.token) is None
    assert svc.position("CA1") is None


def test_overflow_to_queue_voicemail_and_widen(svc):
    svc.join("S1", "sales", NOW)
    svc.join("S2", "sales", NOW + 50)
    svc.join("B1", "billing", NOW)
    svc.join("T1", "tech", NOW)
    moved = svc.route("sales", NOW + 61).overflowed
    assert moved == [("S1", "queue", "support")]
    assert svc.position("S1") == 1
    assert svc.snapshot("sales", NOW).queue_len == 1
    assert svc.route("billing", NOW + 31).overflowed == [("B1", "voicemail", None)]
    assert svc.position("B1") is None
    go_available(svc, "alice")  # support 5 only: qualifies for T1 once widened
    result = svc.route("tech", NOW + 31)
    assert result.overflowed == [("T1", "widen", None)]
    assert [(r.member, r.agent.id) for r in result.reservations] == [("T1", "alice")]


def test_presence_rules(svc):
    with pytest.raises(NotFound, match="ivr agent list"):
        svc.agent_presence("zed", "available", NOW)
    with pytest.raises(ValueError, match="set by the routing engine"):
        svc.agent_presence("alice", "on_call", NOW)
    with pytest.raises(ValueError, match="unknown presence"):
        svc.agent_presence("alice", "napping", NOW)
    go_available(svc, "alice")
    svc.join("CA1", "support", NOW)
    svc.route("support", NOW)
    with pytest.raises(Conflict, match="ringing"):
        svc.agent_presence("alice", "offline", NOW)
    assert ("support", "agent") in svc.trigger.changed


def test_snapshot_feeds_the_hold_time_estimator(svc):
    from ivr.store.queue_stats import estimate_wait

    go_available(svc, "alice", "dan")
    for i in range(6):
        svc.join(f"CA{i}", "support", NOW + i)
    for res in svc.route("support", NOW + 10).reservations:
        svc.bridge_answered(res.member, res.token, NOW + 12)
        svc.call_ended(res.member, NOW + 250)
    near = estimate_wait(svc.snapshot("support", NOW + 260, "CA2"), NOW + 260)
    far = estimate_wait(svc.snapshot("support", NOW + 260, "CA5"), NOW + 260)
    assert 0 < near[0] < far[0]
