"""An agent in several queues goes to the caller who should go first among all of them
(issue 12 item 11): priority, then the longer effective wait, whichever queue's routing pass
runs first; never two reservations for one agent. Real Redis."""

from __future__ import annotations

import threading

import pytest
import redis as redis_lib

from ivr.store import keys
from ivr.store.redis_queue import QueueService
from tests.store.queue_fixtures import NOW, service_for

TWO_QUEUES = {
    "queues": {
        "billing": {"skill": "billing"},
        "sales": {"skill": "sales"},
        "tech": {"skill": "tech"},  # pat does not serve it: never read for pat
    },
    "agents": {
        "pat": {"address": "+14155550193", "skills": {"billing": 5, "sales": 5}},
        "tess": {"address": "+14155550194", "skills": {"tech": 5}},
    },
}


def two_queue_service(conn: redis_lib.Redis) -> QueueService:
    return service_for(conn, TWO_QUEUES)


def reserved(svc: QueueService) -> list[tuple[str, str]]:
    """(member, agent) of every reservation stored, read from Redis."""
    out = []
    for key in svc.conn.scan_iter(keys.reservation("*")):
        res = svc.conn.hgetall(key)
        out.append((res[b"member"].decode(), res[b"agent"].decode()))
    return sorted(out)


@pytest.mark.parametrize("first", ["billing", "sales"])
def test_equal_priority_the_caller_who_waited_longer_gets_the_shared_agent(redis, first):
    svc = two_queue_service(redis)
    svc.join("CA-billing", "billing", NOW - 10)
    svc.join("CA-sales", "sales", NOW - 40)  # waited longer
    svc.agent_presence("pat", "available", NOW - 500)
    second = "sales" if first == "billing" else "billing"
    made = svc.route(first, NOW).reservations + svc.route(second, NOW).reservations
    assert [(r.queue, r.member, r.agent.id) for r in made] == [("sales", "CA-sales", "pat")]
    assert reserved(svc) == [("CA-sales", "pat")]
    assert svc.position("CA-billing") == 1  # still in line, same place


@pytest.mark.parametrize("first", ["billing", "sales"])
def test_higher_priority_goes_first_even_with_a_shorter_wait(redis, first):
    svc = two_queue_service(redis)
    svc.join("CA-vip", "billing", NOW - 5, priority=3)
    svc.join("CA-old", "sales", NOW - 80)
    svc.agent_presence("pat", "available", NOW - 500)
    (res,) = svc.route(first, NOW).reservations
    assert (res.queue, res.member) == ("billing", "CA-vip")
    assert svc.route("sales", NOW).reservations == []  # pat is ringing: nobody else
    assert reserved(svc) == [("CA-vip", "pat")]


def test_a_pass_leaves_queues_the_agents_do_not_serve_alone(redis):
    svc = two_queue_service(redis)
    svc.join("CA-tech", "tech", NOW - 100)
    svc.join("CA-billing", "billing", NOW - 10)
    svc.agent_presence("pat", "available", NOW - 500)
    svc.agent_presence("tess", "available", NOW - 400)
    (res,) = svc.route("billing", NOW).reservations
    assert (res.member, res.agent.id) == ("CA-billing", "pat")
    assert svc.position("CA-tech") == 1  # tech's own pass routes it
    (tech,) = svc.route("tech", NOW).reservations
    assert (tech.member, tech.agent.id) == ("CA-tech", "tess")


def race(services: list[QueueService], queues: list[str]) -> list[str]:
    """Run one routing pass per (service, queue) at once, each on its own connection."""
    start = threading.Barrier(len(services))
    made: list[str] = []

    def run(own: QueueService, queue: str) -> None:
        start.wait(timeout=30)
        made.extend(r.member for r in own.route(queue, NOW).reservations)

    threads = [threading.Thread(target=run, args=pair)
               for pair in zip(services, queues, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return made


def test_racing_passes_of_both_queues_reserve_the_agent_once(redis, redis_url):
    for round_ in range(5):
        svc = two_queue_service(redis)
        for i in range(3):
            svc.join(f"CA-b{round_}-{i}", "billing", NOW - 10 - i)
            svc.join(f"CA-s{round_}-{i}", "sales", NOW - 40 - i)
        svc.agent_presence("pat", "available", NOW - 500)
        services = [two_queue_service(redis_lib.Redis.from_url(redis_url)) for _ in range(4)]
        made = race(services, ["billing", "sales"] * 2)
        assert made == [f"CA-s{round_}-2"]  # the longest wait among both lines, once
        assert reserved(svc) == [(f"CA-s{round_}-2", "pat")]
        for s in services:
            s.conn.close()
        for key in redis.scan_iter(f"{keys.PREFIX}*"):  # not flushdb: keep the db's claim
            redis.delete(key)
