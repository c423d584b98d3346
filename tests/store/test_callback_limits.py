"""Toll fraud at the store (issue 12, item 4): the queue's countries and the daily limit per
number, counted atomically in Redis. On the old code any valid E.164 number in any country
was stored, as often as asked."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from ivr.domain.phone_numbers import BadNumber, Refusal
from ivr.store import keys
from tests.store.queue_fixtures import NOW, make_service

CALLER = "+14155550100"


@pytest.fixture
def svc(redis):
    return make_service(redis)


def refusal(svc, number, at=NOW, caller=CALLER, queue="support"):
    with pytest.raises(BadNumber) as refused:
        svc.callbacks.request(queue, number, at, caller=caller)
    return refused.value.refusal


def test_a_number_abroad_or_premium_is_refused_and_nothing_is_stored(svc, redis):
    assert refusal(svc, "+442079460018") is Refusal.COUNTRY  # the queue serves the US only
    assert refusal(svc, "+18765550100") is Refusal.COUNTRY  # Jamaica, inside +1
    assert refusal(svc, "+448712345678") is Refusal.NOT_CALLABLE  # UK premium
    assert redis.zcard(keys.queue_waiting("support")) == 0
    assert svc.callbacks.quota.used(CALLER, NOW) == 0  # refusals use none of the quota
    cfg = svc.queues["support"]
    svc.queues["support"] = replace(cfg, callback=replace(cfg.callback,
                                                           countries=frozenset({"US", "GB"})))
    assert svc.callbacks.request("support", "+442079460018", NOW).outcome == "created"


def test_a_fourth_callback_from_one_caller_in_a_day_is_refused(svc, redis):
    for i in range(3):
        assert svc.callbacks.request("support", f"+1415555011{i}", NOW + i,
                                     caller=CALLER).outcome == "created"
    assert refusal(svc, "+14155550119", at=NOW + 10) is Refusal.TOO_MANY
    assert redis.zcard(keys.queue_waiting("support")) == 3
    assert svc.callbacks.request("support", "+14155550119", NOW + 11,
                                 caller="+14155550177").outcome == "created"  # another caller
    # the window is 24 hours from each callback: the first one's count lapses first
    assert refusal(svc, "+14155550120", at=NOW + 86_399) is Refusal.TOO_MANY
    assert svc.callbacks.request("support", "+14155550120", NOW + 86_401,
                                 caller=CALLER).outcome == "created"


def test_one_number_called_back_for_many_callers_is_limited_too(svc):
    target = "+14155550150"
    for i in range(3):
        assert svc.callbacks.request("support", target, NOW + i,
                                     caller=f"+1415555020{i}").outcome == "created"
        svc.conn.hdel(keys.callbacks_by_number("support"), target)  # as if placed meanwhile
    assert refusal(svc, target, at=NOW + 5, caller="+14155550299") is Refusal.TOO_MANY


def test_a_merged_request_costs_nothing(svc):
    first = svc.callbacks.request("support", CALLER, NOW, caller=CALLER)
    for i in range(4):
        again = svc.callbacks.request("support", CALLER, NOW + 1 + i, caller=CALLER)
        assert (again.outcome, again.callback_id) == ("merged", first.callback_id)
    assert svc.callbacks.quota.used(CALLER, NOW + 10) == 1


def test_the_limit_is_per_queue_setting(svc):
    cfg = svc.queues["support"]
    svc.queues["support"] = replace(cfg, callback=replace(cfg.callback,
                                                           max_per_number_per_day=1))
    svc.callbacks.request("support", "+14155550160", NOW, caller=CALLER)
    assert refusal(svc, "+14155550161", at=NOW + 1) is Refusal.TOO_MANY


def test_racing_requests_at_the_limit_store_exactly_the_limit(svc, redis):
    results: list[str] = []
    lock = threading.Lock()

    def ask(i: int) -> None:
        try:
            outcome = svc.callbacks.request("support", f"+1415555030{i}", NOW, caller=CALLER)
            got = outcome.outcome
        except BadNumber as exc:
            got = exc.refusal.value
        with lock:
            results.append(got)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["created"] * 3 + ["too_many"] * 5
    assert redis.zcard(keys.queue_waiting("support")) == 3
    assert 0 < redis.pttl(keys.callback_quota(CALLER)) <= 86_400_000
