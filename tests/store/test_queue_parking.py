"""The line never stalls (issue 12 item 10): entries that may not be routed yet (callbacks
booked for later, waiting for a retry, or held while the queue is closed) are set aside by the
routing pass and come back with their ORIGINAL place when due. Real Redis."""

from __future__ import annotations

import copy
import dataclasses

from ivr.store import keys
from ivr.store.redis_queue import QueueService
from tests.store.queue_fixtures import CONFIG, NOW, go_available, service_for

AHEAD = 100


def roomy_service(redis, **options) -> QueueService:
    """The shared fixture's queues, with room for more than a hundred entries."""
    config = copy.deepcopy(CONFIG)
    config["queues"]["support"]["max_size"] = 1000
    options.setdefault("device_stale_seconds", 86400.0)  # queue_fixtures.make_service
    return service_for(redis, config, NOW - 5000, **options)


def number(i: int) -> str:
    return f"+1415{2000000 + i:07d}"


def book_later(svc: QueueService, n: int, due: float) -> list[str]:
    """`n` callbacks with early places (asked for before anyone else) booked for `due`."""
    booked = [svc.callbacks.request("support", number(i), NOW - 3000 + i, not_before=due)
              for i in range(n)]
    return [f"cb:{cb.callback_id}" for cb in booked]


def test_later_time_callbacks_ahead_do_not_stall_the_live_caller(redis):
    svc = roomy_service(redis)
    due = NOW + 3600
    members = book_later(svc, AHEAD, due)
    places = [redis.zscore(keys.queue_waiting("support"), m) for m in members]
    svc.join("CA1", "support", NOW)
    assert svc.position("CA1") == AHEAD + 1
    go_available(svc, "alice")
    (res,) = svc.route("support", NOW + 1).reservations
    assert (res.member, res.agent.id) == ("CA1", "alice")
    # the callbacks kept their places: back in line with the same scores when due
    assert svc.snapshot("support", NOW + 2).queue_len == AHEAD
    assert svc.position(members[0]) == 1
    svc.release(res.token, NOW + 2)
    svc.leave("CA1", "hangup", NOW + 2)
    (first,) = svc.route("support", due + 1).reservations
    assert first.member == members[0]
    assert [redis.zscore(keys.queue_waiting("support"), m) for m in members[1:]] == places[1:]


def test_retry_waiting_callbacks_ahead_do_not_stall_the_live_caller(redis):
    svc = roomy_service(redis)
    members = [f"cb:{svc.callbacks.request('support', number(i), NOW - 3000 + i).callback_id}"
               for i in range(AHEAD)]
    go_available(svc, "alice")
    for step, member in enumerate(members):  # every callback rung once, nobody answered
        at = NOW - 10 + step * 0.01  # due again 60 s later
        (res,) = svc.route("support", at).reservations
        assert res.member == member
        assert svc.callbacks.unanswered(member, res.token, at) == "retry"
    svc.join("CA1", "support", NOW)
    (res,) = svc.route("support", NOW + 1).reservations
    assert (res.member, res.agent.id) == ("CA1", "alice")
    svc.leave("CA1", "hangup", NOW + 2)  # alice goes back to available; retries now due
    (again,) = svc.route("support", NOW + 60).reservations
    assert again.member == members[0]


def test_callbacks_held_while_closed_let_calls_through_and_return_in_place(redis):
    hours = {"open": False}
    svc = roomy_service(redis, is_open=lambda name, now: hours["open"])
    members = [f"cb:{svc.callbacks.request('support', number(i), NOW - 3000 + i).callback_id}"
               for i in range(AHEAD)]
    svc.join("CA1", "support", NOW)
    svc.join("CA2", "support", NOW + 5)
    go_available(svc, "alice")
    (res,) = svc.route("support", NOW + 10).reservations
    assert res.member == "CA1"
    assert redis.zcard(keys.queue_parked("support")) == AHEAD
    hours["open"] = True
    go_available(svc, "bob")  # level 2: needs CA2 to have waited 30 s, callbacks long have
    (back,) = svc.route("support", NOW + 11).reservations
    assert back.member == members[0]
    assert redis.zcard(keys.queue_parked("support")) == 0
    assert svc.position("CA2") == AHEAD  # behind the 99 callbacks still ahead of it


def test_a_parked_callback_merged_or_given_up_leaves_no_trace(redis):
    svc = roomy_service(redis)
    (member,) = book_later(svc, 1, NOW + 3600)
    svc.join("CA1", "support", NOW)
    go_available(svc, "alice")
    svc.route("support", NOW + 1)
    assert redis.zscore(keys.queue_parked("support"), member) is not None
    place = redis.hget(keys.queue_entry(member), "score")
    merged = svc.callbacks.request("support", number(0), NOW + 2, not_before=NOW + 60)
    assert merged.outcome == "merged"
    assert redis.zscore(keys.queue_parked("support"), member) is None
    assert redis.zscore(keys.queue_waiting("support"), member) == float(place)
    svc.route("support", NOW + 3)  # still not due: set aside again
    assert redis.zscore(keys.queue_parked("support"), member) is not None
    assert svc.leave(member, "hangup", NOW + 4).state == "waiting"
    assert redis.zcard(keys.queue_parked("support")) == 0


def test_parked_entries_still_count_towards_the_max_size(redis):
    svc = roomy_service(redis)
    svc.queues["support"] = dataclasses.replace(svc.queues["support"], max_size=2)
    book_later(svc, 2, NOW + 3600)
    svc.route("support", NOW)
    assert redis.zcard(keys.queue_parked("support")) == 2
    assert svc.join("CA1", "support", NOW + 1).reason == "queue-full"
