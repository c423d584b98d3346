"""Two queues compete for one agent through the real RQ jobs (issue 12 item 11): whichever
queue's `route_queue` job runs first, the caller who should go first among both lines is
bridged to the agent, once. Real Redis, in-process SimpleWorker, the real twilio Client
against a local stand-in for Twilio's REST API."""

from __future__ import annotations

import time

import pytest
from rq import SimpleWorker

from ivr.store.jobs import ROUTING_QUEUE
from queue_worker.routing import route_queue
from tests.store.test_queue_across import TWO_QUEUES
from tests.worker.conftest import routing_context


@pytest.fixture
def ctx(redis, fake_twilio):
    return routing_context(redis, fake_twilio, TWO_QUEUES, time.time() - 1000)


def bridged_calls(fake_twilio) -> list[str]:
    return sorted(p.rsplit("/", 1)[-1].removesuffix(".json")
                  for p, _ in fake_twilio.served if "/Calls/" in p)


@pytest.mark.parametrize(("first", "priority", "expected"), [
    ("billing", 0, "CA-sales"),    # equal priority: the longer wait wins
    ("sales", 0, "CA-sales"),
    ("billing", 2, "CA-billing"),  # higher priority wins over a longer wait
    ("sales", 2, "CA-billing"),
])
def test_shared_agent_goes_to_whoever_should_go_first_whichever_job_runs_first(
        ctx, redis, fake_twilio, first, priority, expected):
    svc = ctx.service
    now = time.time()
    svc.join("CA-billing", "billing", now - 10, priority=priority)
    svc.join("CA-sales", "sales", now - 40)
    worker = SimpleWorker([ROUTING_QUEUE], connection=redis)
    worker.work(burst=True)  # the passes the joins asked for: nobody available yet
    assert bridged_calls(fake_twilio) == []
    svc.agents.set_presence("pat", "available", now)  # no trigger: the test orders the jobs
    second = "sales" if first == "billing" else "billing"
    ctx.rq.enqueue(route_queue, first, "agent", job_id=f"route-{first}-agent")
    ctx.rq.enqueue(route_queue, second, "agent", job_id=f"route-{second}-agent")
    worker.work(burst=True)
    assert bridged_calls(fake_twilio) == [expected]
    assert svc.agents.get("pat").presence == "ringing"
    other = "CA-sales" if expected == "CA-billing" else "CA-billing"
    assert svc.position(other) == 1
