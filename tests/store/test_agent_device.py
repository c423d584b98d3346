"""Presence follows the device (docs/agent-floor.md, Agent state): a softphone agent
(`client:NAME`) is offered callers only while their device is registered and refreshed
within IVR_DEVICE_STALE_SECONDS; an agent at a number always. Real Redis."""

from __future__ import annotations

import pytest

from ivr.store import keys
from ivr.store.redis_queue import QueueService
from tests.store.queue_fixtures import NOW, service_for

ONE_QUEUE = {
    "queues": {"support": {"skill": "support", "relax": [{"after": 0, "min_level": 1}]}},
    "agents": {
        "alice": {"address": "client:alice", "skills": {"support": 5}},
        "bob": {"address": "+14155550190", "skills": {"support": 5}},
    },
}


@pytest.fixture
def svc(redis) -> QueueService:
    return service_for(redis, ONE_QUEUE, device_stale_seconds=30)


def offered(svc: QueueService, at: float) -> list[str]:
    svc.join(f"CA{at}", "support", at)
    return [r.agent.id for r in svc.route("support", at).reservations]


def test_a_softphone_agent_who_never_registered_is_not_offered_a_call(svc, redis):
    svc.agent_presence("alice", "available", NOW)
    assert redis.zscore(keys.agents_available("support"), "alice") is None
    assert offered(svc, NOW + 1) == []


def test_a_number_agent_is_offered_calls_without_any_device(svc):
    svc.agent_presence("bob", "available", NOW)
    assert offered(svc, NOW + 1) == ["bob"]


def test_registered_is_offered_unregistered_is_not(svc, redis):
    svc.agent_presence("alice", "available", NOW)
    assert svc.agents.device("alice", "registered", NOW) == "registered"
    assert redis.zscore(keys.agents_available("support"), "alice") is not None
    svc.join("CA1", "support", NOW + 1)
    [res] = svc.route("support", NOW + 1).reservations
    assert res.agent.id == "alice"
    svc.release(res.token, NOW + 2)  # back to available, still registered: indexed again
    assert redis.zscore(keys.agents_available("support"), "alice") is not None
    svc.agents.device("alice", "unregistered", NOW + 3)
    assert redis.zscore(keys.agents_available("support"), "alice") is None
    assert svc.route("support", NOW + 4).reservations == []
    assert svc.agents.get("alice").presence == "available"  # presence kept, not offered


def test_a_stale_device_is_not_offered_and_a_refresh_brings_the_agent_back(svc, redis):
    svc.agents.device("alice", "registered", NOW)
    svc.agent_presence("alice", "available", NOW)
    svc.join("CA1", "support", NOW + 31)
    assert svc.route("support", NOW + 31).reservations == []  # silent for 31 s > 30
    assert redis.zscore(keys.agents_available("support"), "alice") is None
    assert svc.agents.device("alice", "", NOW + 40) == "registered"  # the console's poll
    assert [r.agent.id for r in svc.route("support", NOW + 41).reservations] == ["alice"]


def test_a_poll_does_not_register_an_unregistered_device(svc, redis):
    svc.agents.device("alice", "unregistered", NOW)
    svc.agent_presence("alice", "available", NOW)
    assert svc.agents.device("alice", "", NOW + 1) == "unregistered"
    assert offered(svc, NOW + 2) == []
    with pytest.raises(ValueError, match="registered or unregistered"):
        svc.agents.device("alice", "online", NOW)


def test_a_stale_softphone_does_not_hide_a_number_agent(svc):
    svc.agents.device("alice", "registered", NOW - 100)
    svc.agent_presence("alice", "available", NOW - 100)  # idle longest, but silent
    svc.agent_presence("bob", "available", NOW)
    assert offered(svc, NOW + 1) == ["bob"]
