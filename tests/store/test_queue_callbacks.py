from __future__ import annotations

import json

import pytest

from ivr.domain.phone_numbers import BadNumber
from ivr.store import keys
from tests.store.queue_fixtures import NOW, go_available, make_service


@pytest.fixture
def svc(redis):
    return make_service(redis)


def test_callback_keeps_the_callers_place_and_is_persisted_first(svc, redis):
    svc.join("CA1", "support", NOW)
    svc.join("CA2", "support", NOW + 10)
    svc.join("CA3", "support", NOW + 20)
    before = redis.zscore(keys.queue_waiting("support"), "CA2")
    cb = svc.callbacks.request("support", "+1 415 555 0100", NOW + 60, call_sid="CA2")
    assert (cb.outcome, cb.persisted, cb.number, cb.position) == (
        "created", True, "+14155550100", 2)
    member = f"cb:{cb.callback_id}"
    assert redis.zscore(keys.queue_waiting("support"), member) == before
    assert svc.position("CA2") is None
    assert svc.position("CA3") == 3
    assert redis.hget(keys.callbacks_by_number("support"), "+14155550100").decode() == (
        cb.callback_id)


def test_second_request_for_a_number_is_merged_keeping_the_earlier_place(svc, redis):
    svc.join("CA1", "support", NOW)
    svc.join("CA2", "support", NOW + 30)
    first = svc.callbacks.request("support", "+14155550100", NOW + 40, call_sid="CA2")
    second = svc.callbacks.request("support", "+14155550100", NOW + 50, call_sid="CA1")
    assert (second.outcome, second.callback_id, second.persisted) == (
        "merged", first.callback_id, True)
    member = f"cb:{first.callback_id}"
    assert svc.position(member) == 1  # took CA1's earlier place
    assert svc.position("CA1") is None
    assert redis.zcard(keys.queue_waiting("support")) == 1
    other = svc.callbacks.request("support", "+14155550199", NOW + 55)
    assert other.outcome == "created"
    assert svc.position(f"cb:{other.callback_id}") == 2
    assert svc.snapshot("support", NOW + 60).callbacks_pending == 2


@pytest.mark.parametrize("number", ["+19005550100", "+449012345678", "112", "555-0100"])
def test_refused_numbers_store_nothing(svc, redis, number):
    with pytest.raises(BadNumber):
        svc.callbacks.request("support", number, NOW)
    assert redis.zcard(keys.queue_waiting("support")) == 0


def test_callback_not_before_and_hours(redis):
    svc = make_service(redis, is_open=lambda hours, now: now < NOW + 1000)
    with pytest.raises(ValueError, match="outside"):
        svc.callbacks.request("support", "+14155550100", NOW, not_before=NOW + 5000)
    cb = svc.callbacks.request("support", "+14155550100", NOW, not_before=NOW + 100)
    assert svc.trigger.due == [("support", NOW + 100)]
    go_available(svc, "alice")
    assert svc.route("support", NOW + 50).reservations == []  # not yet
    (res,) = svc.route("support", NOW + 101).reservations
    assert res.member == f"cb:{cb.callback_id}"
    assert res.kind == "callback"
    svc.release(res.token, NOW + 102)
    assert svc.route("support", NOW + 1001).reservations == []  # closed: callbacks wait


def test_unanswered_callback_retries_then_gives_up_with_follow_up_event(svc, redis):
    go_available(svc, "alice")
    cb = svc.callbacks.request("support", "+14155550100", NOW, call_sid=None)
    member = f"cb:{cb.callback_id}"
    (res,) = svc.route("support", NOW + 1).reservations
    assert svc.callbacks.unanswered(member, res.token, NOW + 30) == "retry"
    assert svc.position(member) == 1
    assert svc.trigger.due[-1] == ("support", NOW + 90)
    assert svc.route("support", NOW + 60).reservations == []
    (res2,) = svc.route("support", NOW + 91).reservations
    assert svc.callbacks.unanswered(member, res2.token, NOW + 120) == "given_up"
    assert svc.position(member) is None
    assert redis.hlen(keys.callbacks_by_number("support")) == 0
    ((_, fields),) = redis.xrange(keys.events_stream())
    assert fields[b"kind"] == b"callback_done"
    assert fields[b"call"] == member.encode()  # no call asked for it: filed under the callback
    assert json.loads(fields[b"data"]) == {"callback": cb.callback_id, "result": "gave_up",
                                           "queue": "support", "number": "+14155550100",
                                           "attempts": 2}
    assert svc.agents.get("alice").presence == "available"


def test_answered_callback_closes_the_promise(svc, redis):
    go_available(svc, "alice")
    cb = svc.callbacks.request("support", "+14155550100", NOW)
    member = f"cb:{cb.callback_id}"
    (res,) = svc.route("support", NOW + 1).reservations
    assert svc.bridge_answered(member, res.token, NOW + 20) == 20.0
    assert redis.hlen(keys.callbacks_by_number("support")) == 0
    assert svc.call_ended(member, NOW + 200) == 180.0
    again = svc.callbacks.request("support", "+14155550100", NOW + 300)
    assert again.outcome == "created"
