"""Missed rings in a row set an agent `away` (docs/agent-floor.md, Agent state): the count,
the reason, routing skipping them, the reset by an answered ring, and the order-independence
with the release of the missed ring's reservation."""

from __future__ import annotations

import pytest

from ivr.domain.errors import NotFound
from ivr.store import keys
from tests.store.queue_fixtures import NOW, go_available, make_service


@pytest.fixture
def svc(redis):
    return make_service(redis)


def ring(svc, member: str, at: float):
    svc.join(member, "support", at)
    [res] = svc.route("support", at).reservations
    return res


def test_two_misses_in_a_row_set_away_with_reason_and_routing_skips_the_agent(svc, redis):
    go_available(svc, "alice")
    res = ring(svc, "CA1", NOW)
    assert svc.bridge_failed("CA1", res.token, NOW + 20, agent_presence="available")
    assert svc.agents.ring_missed("alice", NOW + 20) is False
    assert svc.agents.get("alice").presence == "available"
    res = ring(svc, "CA2", NOW + 30)
    assert (res.member, res.agent.id) == ("CA1", "alice")  # CA1 kept the head of the line
    assert svc.bridge_failed("CA1", res.token, NOW + 50, agent_presence="available")
    assert svc.agents.ring_missed("alice", NOW + 50) is True
    detail = svc.agents.detail("alice")
    assert (detail["presence"], detail["reason"]) == ("away", "missed 2 calls")
    assert redis.zscore(keys.agents_available("support"), "alice") is None
    assert svc.route("support", NOW + 60).reservations == []
    # the agent comes back by hand: the reason goes, the count starts again
    svc.agent_presence("alice", "available", NOW + 70)
    detail = svc.agents.detail("alice")
    assert "reason" not in detail
    assert svc.agents.missed_rings("alice") == 0
    assert [(r.member, r.agent.id) for r in svc.route("support", NOW + 71).reservations] == [
        ("CA1", "alice")]


def test_a_miss_reported_while_still_ringing_makes_the_release_go_away(svc):
    svc = make_service(svc.conn, away_after_missed=1)
    go_available(svc, "alice")
    res = ring(svc, "CA1", NOW)
    assert svc.agents.ring_missed("alice", NOW + 20) is True
    assert svc.agents.get("alice").presence == "ringing"
    assert svc.bridge_failed("CA1", res.token, NOW + 20, agent_presence="available")
    detail = svc.agents.detail("alice")
    assert (detail["presence"], detail["reason"]) == ("away", "missed 1 calls")
    assert "away_pending" not in detail
    assert svc.position("CA1") == 1  # the caller is back in line, same place


def test_an_answered_ring_resets_the_count(svc):
    go_available(svc, "alice")
    res = ring(svc, "CA1", NOW)
    svc.bridge_failed("CA1", res.token, NOW + 20, agent_presence="available")
    svc.agents.ring_missed("alice", NOW + 20)
    res = ring(svc, "CA2", NOW + 30)
    assert svc.bridge_answered(res.member, res.token, NOW + 35) is not None
    assert svc.agents.missed_rings("alice") == 0
    svc.agents.ring_missed("alice", NOW + 40)
    svc.agents.ring_answered("alice")
    assert svc.agents.ring_missed("alice", NOW + 50) is False
    assert svc.agents.get("alice").presence == "on_call"


def test_on_call_is_never_turned_away_and_unknown_agent_is_not_found(svc):
    svc = make_service(svc.conn, away_after_missed=1)
    go_available(svc, "alice")
    res = ring(svc, "CA1", NOW)
    svc.bridge_answered("CA1", res.token, NOW + 5)
    assert svc.agents.ring_missed("alice", NOW + 6) is False
    assert svc.agents.get("alice").presence == "on_call"
    with pytest.raises(NotFound):
        svc.agents.ring_missed("nobody", NOW)


def test_away_is_not_a_state_set_by_hand(svc):
    go_available(svc, "alice")
    with pytest.raises(ValueError, match="routing engine"):
        svc.agent_presence("alice", "away", NOW)
