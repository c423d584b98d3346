"""After-call work (docs/agent-floor.md, Agent state): wrap-up ends by its timer, early, or
with a required disposition; it can be extended up to a cap; each end files one `wrap_up`
event under the call's CallSid. Real Redis."""

from __future__ import annotations

import json

import pytest

from ivr.domain.errors import Conflict
from ivr.domain.queueing import Presence
from ivr.store import keys
from ivr.store.redis_queue import QueueService
from tests.store.queue_fixtures import NOW, service_for

CONFIG = {
    "queues": {
        "support": {"skill": "support", "wrap_up_seconds": 30,
                    "relax": [{"after": 0, "min_level": 1}]},
        "billing": {"skill": "billing", "wrap_up_seconds": 10, "disposition_required": True,
                    "relax": [{"after": 0, "min_level": 1}]},
    },
    "agents": {"bob": {"address": "+14155550190", "skills": {"support": 5, "billing": 5}}},
}


@pytest.fixture
def svc(redis) -> QueueService:
    svc = service_for(redis, CONFIG, wrap_up_max_extend=60)
    svc.agent_presence("bob", "available", NOW - 500)
    return svc


def talk(svc: QueueService, member: str, queue: str, start: float, end: float) -> None:
    """A caller meets bob at `start` and hangs up at `end`: bob is in wrap-up from `end`."""
    svc.join(member, queue, start)
    [res] = svc.route(queue, start).reservations
    svc.bridge_answered(member, res.token, start + 1)
    assert svc.call_ended(member, end) is not None


def wrap_events(redis) -> list[tuple[str, dict]]:
    return [(f[b"call"].decode(), json.loads(f[b"data"]))
            for _, f in redis.xrange(keys.events_stream()) if f[b"kind"] == b"wrap_up"]


def test_wrap_up_ends_by_its_timer_and_files_the_event(svc, redis):
    talk(svc, "CA1", "support", NOW, NOW + 100)
    wrap = svc.wrap_up("bob")
    assert (wrap.call, wrap.until, wrap.disposition_required) == ("CA1", NOW + 130, False)
    assert svc.trigger.free == [("bob", NOW + 130)]
    assert svc.end_wrap_up("bob", NOW + 120) is False  # time left
    assert svc.end_wrap_up("bob", NOW + 130) is True
    assert svc.agents.get("bob").presence == "available"
    assert wrap_events(redis) == [("CA1", {"agent": "bob", "seconds": 30.0,
                                           "ended": "timeout", "extended": 0.0})]
    assert svc.end_wrap_up("bob", NOW + 131) is False  # once


def test_end_early_and_extend_with_a_cap(svc, redis):
    talk(svc, "CA1", "support", NOW, NOW + 100)
    assert svc.extend_wrap_up("bob", 45, NOW + 110).until == NOW + 175
    assert svc.extend_wrap_up("bob", 45, NOW + 111).until == NOW + 190  # capped at 60 in all
    with pytest.raises(Conflict, match="most allowed"):
        svc.extend_wrap_up("bob", 5, NOW + 112)
    assert svc.end_wrap_up("bob", NOW + 180) is False  # the extended time is not over
    svc.end_wrap_up_early("bob", NOW + 150)
    assert svc.agents.get("bob").presence == "available"
    assert wrap_events(redis) == [("CA1", {"agent": "bob", "seconds": 50.0, "ended": "early",
                                           "extended": 60.0})]
    with pytest.raises(Conflict, match="not in wrap-up"):
        svc.end_wrap_up_early("bob", NOW + 151)
    with pytest.raises(Conflict, match="not in wrap-up"):
        svc.extend_wrap_up("bob", 10, NOW + 151)


def test_a_required_disposition_holds_wrap_up_until_it_is_filed(svc, redis):
    talk(svc, "CA2", "billing", NOW, NOW + 100)
    assert svc.wrap_up("bob").disposition_required is True
    assert svc.end_wrap_up("bob", NOW + 200) is False  # timer passed: still waiting
    with pytest.raises(Conflict, match="disposition"):
        svc.end_wrap_up_early("bob", NOW + 200)
    with pytest.raises(Conflict, match="disposition"):
        svc.agent_presence("bob", "available", NOW + 200)
    svc.join("CA3", "support", NOW + 201)
    assert svc.route("support", NOW + 201).reservations == []  # not offered the next call
    assert svc.disposition_filed("bob", "CA-other", NOW + 205) is False
    assert svc.disposition_filed("bob", "CA2", NOW + 210) is True
    assert svc.agents.get("bob").presence == "available"
    assert wrap_events(redis) == [("CA2", {"agent": "bob", "seconds": 110.0,
                                           "ended": "disposition", "extended": 0.0})]


def test_a_disposition_filed_in_time_lets_the_timer_end_it(svc, redis):
    talk(svc, "CA2", "billing", NOW, NOW + 100)
    assert svc.disposition_filed("bob", "CA2", NOW + 105) is False  # 5 s of wrap-up left
    assert svc.agents.get("bob").presence == "wrap_up"
    assert svc.end_wrap_up("bob", NOW + 110) is True
    assert [e["ended"] for _, e in wrap_events(redis)] == ["timeout"]


def test_setting_a_presence_by_hand_ends_wrap_up_early(svc, redis):
    talk(svc, "CA1", "support", NOW, NOW + 100)
    assert svc.agent_presence("bob", "break", NOW + 104) == "wrap_up"
    assert svc.agents.get("bob").presence == "break"
    assert [(c, e["ended"], e["seconds"]) for c, e in wrap_events(redis)] == [
        ("CA1", "early", 4.0)]


def test_a_transfer_target_leaving_gets_the_same_wrap_up(svc, redis):
    """An agent who joined outside routing (on_call with the caller) wraps up like any."""
    svc.agents._apply("bob", Presence.ON_CALL, NOW,
                      allowed_from="available")
    redis.hset(keys.agent("bob"), "member", "CA9")
    assert svc.start_wrap_up("bob", "CA-other", "billing", NOW + 50) is None
    assert svc.start_wrap_up("bob", "CA9", "billing", NOW + 50) == NOW + 60
    wrap = svc.wrap_up("bob")
    assert (wrap.call, wrap.disposition_required) == ("CA9", True)
    assert svc.disposition_filed("bob", "CA9", NOW + 61) is True
    assert [(c, e["ended"], e["seconds"]) for c, e in wrap_events(redis)] == [
        ("CA9", "disposition", 11.0)]
