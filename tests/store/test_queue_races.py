"""Races on the real Redis: threads joining, routing and expiring at once."""

from __future__ import annotations

import threading

import redis as redis_lib

from ivr.store import keys
from tests.store.queue_fixtures import NOW, go_available, make_service


def run_threads(n: int, target) -> None:
    barrier = threading.Barrier(n)

    def body(i: int) -> None:
        barrier.wait()
        target(i)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_concurrent_joins_never_lose_or_duplicate_and_respect_max_size(redis_url, redis):
    results: dict[int, object] = {}

    def join(i: int) -> None:
        svc = make_service(redis_lib.Redis.from_url(redis_url))
        # every thread also retries its own join: a retried webhook
        results[i] = svc.join(f"CA{i % 8}", "support", NOW + i)
        svc.join(f"CA{i % 8}", "support", NOW + i)

    run_threads(16, join)
    members = [m.decode() for m in redis.zrange(keys.queue_waiting("support"), 0, -1)]
    assert len(members) == len(set(members)) == 5  # max_size 5 among 8 distinct callers
    accepted = {f"CA{i % 8}" for i, r in results.items() if r.accepted}
    assert set(members) == accepted
    refused = {f"CA{i % 8}" for i, r in results.items() if not r.accepted}
    assert refused.isdisjoint(accepted) or refused <= accepted


def test_concurrent_routing_gives_each_agent_one_caller_and_each_caller_one_agent(redis_url,
                                                                                  redis):
    svc = make_service(redis)
    go_available(svc, "alice", "dan")
    for i in range(5):
        svc.join(f"CA{i}", "support", NOW + i)
    reserved: list[tuple[str, str]] = []
    lock = threading.Lock()

    def route(i: int) -> None:
        mine = make_service(redis_lib.Redis.from_url(redis_url))
        got = mine.route("support", NOW + 10).reservations
        with lock:
            reserved.extend((r.member, r.agent.id) for r in got)

    run_threads(12, route)
    assert sorted(reserved) == [("CA0", "alice"), ("CA1", "dan")]
    assert redis.zcard(keys.queue_waiting("support")) == 3


def test_expire_and_answer_racing_settle_once(redis_url, redis):
    svc = make_service(redis)
    go_available(svc, "alice")
    svc.join("CA1", "support", NOW)
    (res,) = svc.route("support", NOW + 1).reservations
    outcomes: list[object] = []

    def act(i: int) -> None:
        mine = make_service(redis_lib.Redis.from_url(redis_url))
        if i % 2:
            outcomes.append(("answer", mine.bridge_answered("CA1", res.token, NOW + 20)))
        else:
            outcomes.append(("expire", mine.expire_leases(NOW + 20)))

    run_threads(8, act)
    answered = [o for o in outcomes if o[0] == "answer" and o[1] is not None]
    expired = sum(o[1] for o in outcomes if o[0] == "expire")
    assert len(answered) + expired == 1
    in_line = svc.position("CA1") is not None
    assert in_line == (expired == 1)
