"""Routing jobs run in-process (SimpleWorker, burst) against the real Redis and, through the
real twilio Client, a local HTTP server standing in for Twilio's REST API."""

from __future__ import annotations

import time

import pytest
from rq import SimpleWorker
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

from ivr.config.settings import Config
from ivr.phone.call_control import TwilioCallControl, build_client
from ivr.store.jobs import ROUTING_QUEUE
from tests.worker.conftest import BASE, work


def test_join_then_agent_available_bridges_once_through_twilio_rest(ctx, redis, fake_twilio):
    svc = ctx.service
    now = time.time()
    svc.join("CA1", "support", now - 40)
    svc.join("CA2", "support", now - 35)
    work(redis)
    assert fake_twilio.served == []  # nobody available yet: callers stay in line
    assert ScheduledJobRegistry(queue=ctx.rq).get_job_ids() == ["route-support-timer"]
    svc.agent_presence("alice", "available", now)
    svc.agent_presence("bob", "available", now)
    work(redis)
    bridged = fake_twilio.served_for("/Calls/")
    assert sorted(f["Url"].split("?")[1].split("&")[0] for f in bridged) == [
        "agent=alice", "agent=bob"]
    assert all(f["Url"].startswith(f"{BASE}/voice/queue/bridge?") for f in bridged)
    paths = sorted(p.rsplit("/", 1)[-1] for p, _ in fake_twilio.served)
    assert paths == ["CA1.json", "CA2.json"]
    work(redis)  # a second pass (retry, timer) bridges nobody again
    assert len(fake_twilio.served) == 2


def test_bridge_that_fails_for_good_is_visible_and_the_caller_is_served_later(
        ctx, redis, fake_twilio):
    svc = ctx.service
    ctx.control = TwilioCallControl(build_client(
        Config(twilio_api_base="http://127.0.0.1:9", public_base_url=BASE), timeout=1))
    svc.lease_seconds = 0.5
    svc.bridge_grace = 0.0
    svc.queues["support"] = svc.queues["support"].__class__(
        **{**svc.queues["support"].__dict__, "ring_timeout": 0})
    svc.agent_presence("alice", "available", time.time())
    svc.join("CA1", "support", time.time())
    worker = SimpleWorker([ROUTING_QUEUE], connection=redis)
    worker.work(burst=True)
    # retries are scheduled with backoff; run them now until the job fails for good
    for _ in range(3):
        for job_id in ScheduledJobRegistry(queue=ctx.rq).get_job_ids():
            if job_id.startswith("bridge-"):
                ctx.rq.enqueue_job(ctx.rq.fetch_job(job_id))
        worker.work(burst=True)
    failed = FailedJobRegistry(queue=ctx.rq).get_job_ids()
    assert len(failed) == 1
    assert failed[0].startswith("bridge-")
    assert svc.position("CA1") is None  # still reserved until the lease ends
    time.sleep(0.6)
    ctx.control = TwilioCallControl(build_client(
        Config(twilio_api_base=fake_twilio.url, public_base_url=BASE), timeout=2))
    from queue_worker.routing import route_queue

    ctx.rq.enqueue(route_queue, "support", "timer")
    worker.work(burst=True)
    assert [p.rsplit("/", 1)[-1] for p, _ in fake_twilio.served] == ["CA1.json"]


@pytest.mark.parametrize("refusal", [(400, 21220), (404, 20404)])
def test_a_caller_who_hung_up_before_the_bridge_is_no_failure_and_frees_the_agent(
        ctx, redis, fake_twilio, refusal):
    """Twilio refuses the redirect of a call that has just ended (21220 "not in-progress", or
    404). Before, the job raised: a traceback in the worker's log and three retries that
    could only fail the same way. Now it ends as "gone"; the call's end frees the agent."""
    svc = ctx.service
    fake_twilio.refuse["/Calls/CA1.json"] = refusal
    svc.agent_presence("alice", "available", time.time())
    svc.join("CA1", "support", time.time())
    worker = SimpleWorker([ROUTING_QUEUE], connection=redis)
    worker.work(burst=True)
    assert [p.rsplit("/", 1)[-1] for p, _ in fake_twilio.received] == ["CA1.json"]
    assert FailedJobRegistry(queue=ctx.rq).get_job_ids() == []
    assert not [j for j in ScheduledJobRegistry(queue=ctx.rq).get_job_ids()
                if j.startswith("bridge-")]  # no retry of a redirect that cannot succeed
    finished = [ctx.rq.fetch_job(j) for j in FinishedJobRegistry(queue=ctx.rq).get_job_ids()]
    assert [j.return_value() for j in finished if j.id.startswith("bridge-")] == ["gone"]
    assert svc.agents.get("alice").presence.value == "ringing"  # reserved for CA1
    svc.leave("CA1", "hangup", time.time())  # the <Enqueue> action Twilio posts at the end
    assert svc.agents.get("alice").presence.value == "available"
    assert svc.position("CA1") is None
