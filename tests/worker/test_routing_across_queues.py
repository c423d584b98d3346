"""Two queues compete for one agent through the real RQ jobs (issue 12 item 11): whichever
queue's `route_queue` job runs first, the caller who should go first among both lines is
bridged to the agent, once. Real Redis, in-process SimpleWorker, the real twilio Client
against a local stand-in for Twilio's REST API."""

from __future__ import annotations

import time

import pytest
from rq import Queue, SimpleWorker

from ivr.config.queues import parse_queues
from ivr.config.settings import Config
from ivr.phone.call_control import TwilioCallControl, build_client
from ivr.store.jobs import ROUTING_QUEUE, RqTrigger
from ivr.store.redis_queue import QueueService
from queue_worker.context import JobContext, install_context
from queue_worker.routing import route_queue
from tests.store.test_queue_across import TWO_QUEUES

BASE = "https://ivr.example.com"


@pytest.fixture
def ctx(redis, fake_twilio):
    rq = Queue(ROUTING_QUEUE, connection=redis)
    setup = parse_queues(TWO_QUEUES)
    svc = QueueService(redis, setup.queues, trigger=RqTrigger(rq))
    for agent in setup.agents:
        svc.agents.upsert(agent, time.time() - 1000)
    control = TwilioCallControl(build_client(
        Config(twilio_api_base=fake_twilio.url, public_base_url=BASE), timeout=2))
    return install_context(redis, JobContext(svc, control, rq, BASE, tick_seconds=30))


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
