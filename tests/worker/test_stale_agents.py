"""The start-up sweep (queue_worker/stale_agents.py): `ivr demo` started again on the same
embedded Redis finds agents ringing for, or on, calls of the previous run that nobody will
ever end. The job asks Twilio's REST API (here the local HTTP server of conftest.py, over the
real twilio Client) about each busy agent's call: ended or unknown calls are ended as their
status callback would have, the agents freed; a live call is left alone; and when Twilio
cannot answer nothing is freed on a guess (the job is retried)."""

from __future__ import annotations

import time

from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from ivr.domain.floor import Leg
from ivr.store.floor import FloorStore
from ivr.store.jobs import ROUTING_QUEUE, enqueue_once
from queue_worker.stale_agents import STALE_RETRY, clear_stale_agents

RINGING, CONNECTED, LIVE = ("CA" + str(n) * 32 for n in (1, 2, 3))


def previous_run(ctx, redis) -> None:
    """What the run before left: alice ringing for RINGING, bob on CONNECTED with dan (a
    consult ringing for it), carol on LIVE, whose call goes on."""
    svc, now = ctx.service, time.time()
    for call, agent in ((RINGING, "alice"), (CONNECTED, "bob"), (LIVE, "carol")):
        svc.join(call, "sales" if agent == "carol" else "support",
                 now - (20 if agent == "carol" else 40))  # bob: support 2 after 30 s
        svc.agent_presence(agent, "available", now)
        (res,) = [r for r in svc.route("sales" if agent == "carol" else "support",
                                       now).reservations if r.member == call]
        svc.begin_bridge(res.token, now)
        FloorStore(redis).create(call, "support", agent=agent, reservation=res.token)
        FloorStore(redis).add_leg(call, Leg(call, "caller", "caller", "joined", since=now))
        if call != RINGING:
            assert svc.bridge_answered(call, res.token, now) is not None
    svc.agent_presence("dan", "break", now)
    assert svc.agents.floor_ringing("dan", CONNECTED, now)
    ctx.rq.empty()


def presences(svc) -> dict[str, str]:
    return {a.id: a.presence.value for a in svc.agents.all()}


def test_agents_held_by_calls_of_a_previous_run_are_freed(ctx, redis, fake_twilio):
    previous_run(ctx, redis)
    assert presences(ctx.service) == {"alice": "ringing", "bob": "on_call",
                                      "carol": "on_call", "dan": "ringing"}
    fake_twilio.calls = {CONNECTED: "completed", LIVE: "in-progress"}  # RINGING: unknown
    enqueue_once(ctx.rq, "stale-agents-startup", clear_stale_agents, retry=STALE_RETRY)
    SimpleWorker([ROUTING_QUEUE], connection=redis).work(burst=True)
    job = ctx.rq.fetch_job("stale-agents-startup")
    assert sorted(job.return_value()["freed"]) == ["alice", "bob", "dan"]
    now = presences(ctx.service)
    assert now["alice"] == "available"
    assert now["bob"] == "wrap_up"  # his call ended: after-call work, as the callback does
    assert now["dan"] == "break"  # what he had before the consult rang him
    assert now["carol"] == "on_call"  # her call is live
    svc = ctx.service
    assert svc.position(RINGING) is None  # the dead caller is not put back in line
    assert FloorStore(redis).load(RINGING) is None
    assert FloorStore(redis).load(CONNECTED) is None
    assert FloorStore(redis).load(LIVE) is not None


def test_nothing_is_freed_when_twilio_cannot_say(ctx, redis, fake_twilio):
    previous_run(ctx, redis)
    fake_twilio.calls = {RINGING: None, CONNECTED: None, LIVE: None}  # Twilio answers 503
    enqueue_once(ctx.rq, "stale-agents-startup", clear_stale_agents, retry=STALE_RETRY)
    SimpleWorker([ROUTING_QUEUE], connection=redis).work(burst=True)
    assert presences(ctx.service) == {"alice": "ringing", "bob": "on_call",
                                      "carol": "on_call", "dan": "ringing"}
    assert ScheduledJobRegistry(queue=ctx.rq).get_job_ids() == ["stale-agents-startup"]
