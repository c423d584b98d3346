"""The agent floor's jobs (queue_worker/floor.py) run in-process (SimpleWorker, burst)
against the real Redis and, through the real twilio Client, a local HTTP server standing in
for Twilio's REST API that can refuse a request as Twilio does (docs/agent-floor.md)."""

from __future__ import annotations

import json
import time

from rq import SimpleWorker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from ivr.domain.floor import Leg
from ivr.store import keys
from ivr.store.floor import FloorStore
from ivr.store.jobs import ROUTING_QUEUE, FloorJobs
from tests.worker.conftest import BASE, work

CALLER = "CA" + "1" * 32


def ring_reserved(ctx, redis) -> str:
    """CALLER waits in `support`, alice is reserved for them and the bridge put them in their
    conference: the ring job is queued (as ivr/phone/bridging.py queues it)."""
    svc = ctx.service
    now = time.time()
    svc.join(CALLER, "support", now - 30)
    svc.agent_presence("alice", "available", now)
    (res,) = svc.route("support", now).reservations
    svc.begin_bridge(res.token, now)
    svc.bridge_sent(res.token)
    FloorStore(redis).create(CALLER, "support", agent="alice", reservation=res.token)
    ctx.rq.empty()  # the routing passes the presence change asked for
    FloorJobs(ctx.rq).ring_agent(CALLER, "alice", res.token)
    return res.token


def run_retries(ctx, worker: SimpleWorker) -> None:
    """The retries wait with backoff in RQ's scheduled registry: run them now, each once."""
    registry = ScheduledJobRegistry(queue=ctx.rq)
    for _ in range(4):
        for job_id in registry.get_job_ids():
            if job_id.startswith(("floor-", "record-")):
                job = ctx.rq.fetch_job(job_id)
                registry.remove(job)
                ctx.rq.enqueue_job(job)
        worker.work(burst=True)


def redirects_of(fake_twilio, call: str) -> list[str]:
    return [f["Url"] for f in fake_twilio.served_for(f"/Calls/{call}.json")]


def test_a_ring_twilio_refuses_puts_the_caller_back_with_their_place(ctx, redis, fake_twilio):
    fake_twilio.refuse["/Calls.json"] = (400, 21211)  # "Invalid 'To' Phone Number"
    ring_reserved(ctx, redis)
    joined = redis.hget(keys.queue_entry(CALLER), "joined_at")
    work(redis)
    assert FailedJobRegistry(queue=ctx.rq).get_job_ids() == []
    assert not [j for j in ScheduledJobRegistry(queue=ctx.rq).get_job_ids()
                if j.startswith("floor-ring-")]  # no retry: it cannot help
    svc = ctx.service
    assert svc.position(CALLER) == 1
    assert redis.hget(keys.queue_entry(CALLER), "joined_at") == joined  # the same place
    assert redirects_of(fake_twilio, CALLER) == [f"{BASE}/voice/floor/back?call={CALLER}"]
    # her address cannot be rung: she is not offered the next caller (break, as a failed
    # bridge leaves her), and it is not counted as a ring she missed
    assert svc.agents.get("alice").presence.value == "break"
    assert svc.agents.missed_rings("alice") == 0


def test_a_ring_that_fails_after_its_retries_releases_the_agent(ctx, redis, fake_twilio):
    fake_twilio.refuse["/Calls.json"] = (503, 20500)  # Twilio's trouble, not alice's
    ring_reserved(ctx, redis)
    worker = SimpleWorker([ROUTING_QUEUE], connection=redis)
    worker.work(burst=True)
    assert ctx.service.position(CALLER) is None  # a retry may still place the ring
    run_retries(ctx, worker)
    assert FailedJobRegistry(queue=ctx.rq).get_job_ids() == []
    assert redirects_of(fake_twilio, CALLER)[0] == f"{BASE}/voice/floor/back?call={CALLER}"
    assert ctx.service.agents.missed_rings("alice") == 0
    # released as available: the next routing pass offered her the caller again
    assert [u for u in redirects_of(fake_twilio, CALLER)[1:]
            if "/voice/queue/bridge?agent=alice" in u]


def test_a_ring_for_a_reservation_already_replaced_does_nothing(ctx, redis, fake_twilio):
    fake_twilio.refuse["/Calls.json"] = (400, 21211)
    ring_reserved(ctx, redis)
    FloorStore(redis).set(CALLER, reservation="another")  # re-routed meanwhile
    work(redis)
    assert redirects_of(fake_twilio, CALLER) == []
    assert fake_twilio.received == []


def test_dropping_a_leg_that_ended_meanwhile_is_done(ctx, redis, fake_twilio):
    """Twilio answers an update of a call that has ended with 400 21220 ("Call is not
    in-progress"): the leg the job was to drop is gone, which is what it wanted."""
    leg, caller = "CA" + "2" * 32, "CA" + "3" * 32
    fake_twilio.refuse[f"/Calls/{leg}.json"] = (400, 21220)
    fake_twilio.refuse[f"/Calls/{caller}.json"] = (400, 21220)
    jobs = FloorJobs(ctx.rq)
    jobs.drop_leg(leg)
    jobs.redirect_caller(caller, f"{BASE}/voice/floor/back?call={caller}", "x")
    work(redis)
    assert FailedJobRegistry(queue=ctx.rq).get_job_ids() == []
    assert ScheduledJobRegistry(queue=ctx.rq).get_job_ids() == []
    assert ctx.rq.fetch_job(f"floor-drop-{leg}").return_value() == "gone"
    assert ctx.rq.fetch_job(f"floor-redirect-{caller}-x").return_value() == "gone"


def test_a_refusal_that_is_not_about_the_call_being_gone_is_retried(ctx, redis, fake_twilio):
    leg = "CA" + "2" * 32
    fake_twilio.refuse[f"/Calls/{leg}.json"] = (400, 21205)  # a bad URL: our own mistake
    FloorJobs(ctx.rq).drop_leg(leg)
    work(redis)
    assert ScheduledJobRegistry(queue=ctx.rq).get_job_ids() == [f"floor-drop-{leg}"]


def test_a_recording_twilio_will_not_start_is_marked_failed(ctx, redis, fake_twilio):
    """The recording job's last try fails (Twilio 5xx): the call's recording is `failed` in
    the console's floor state and a `recording` event says so (the call record's list),
    rather than showing "on" for a recording that never started."""
    from ivr.config.settings import Config
    from ivr.store.call_recordings import CallRecordingStore
    from ivr.store.jobs import RECORDING_RETRY, START_CALL_RECORDING, enqueue_once

    ctx.config = Config(twilio_api_base=fake_twilio.url, public_base_url=BASE)
    leg = "CA" + "4" * 32
    FloorStore(redis).create(CALLER, "support", recording="on")
    CallRecordingStore(redis).begin(CALLER, leg, "support")  # as FloorRecording.start leaves it
    fake_twilio.refuse[f"/Calls/{leg}/Recordings.json"] = (503, 20500)
    enqueue_once(ctx.rq, f"record-{leg}", START_CALL_RECORDING, CALLER, leg,
                 retry=RECORDING_RETRY)
    worker = SimpleWorker([ROUTING_QUEUE], connection=redis)
    worker.work(burst=True)
    assert CallRecordingStore(redis).load(CALLER).status == "starting"  # retried
    run_retries(ctx, worker)
    assert len(fake_twilio.received) == 3  # the first try and its two retries
    assert CallRecordingStore(redis).load(CALLER).status == "failed"
    assert FloorStore(redis).load(CALLER).recording == "failed"
    filed = [(f[b"kind"].decode(), json.loads(f[b"data"]))
             for _, f in redis.xrange(keys.events_stream())]
    assert filed == [("recording", {"recording": leg, "action": "failed"})]


def test_a_callback_ring_twilio_refuses_lets_the_customer_go_and_keeps_the_place(
        ctx, redis, fake_twilio):
    """customer_first: the customer waits in the callback's room (`cb:<id>`, their own leg)
    when the agent's ring is refused: the callback keeps its place, the customer's leg (not
    the member, which is no call) is sent to the callback's end."""
    fake_twilio.refuse["/Calls.json"] = (400, 21211)
    svc = ctx.service
    now = time.time()
    booked = svc.callbacks.request("support", "+14155550102", now - 30, call_sid=CALLER)
    member = f"cb:{booked.callback_id}"
    score = redis.hget(keys.queue_entry(member), "score")
    svc.agent_presence("alice", "available", now)
    (res,) = svc.route("support", now).reservations
    svc.begin_bridge(res.token, now)
    svc.bridge_sent(res.token)
    floor = FloorStore(redis)
    floor.create(member, "support", agent="alice", reservation=res.token, record=CALLER)
    floor.add_leg(member, Leg("CA" + "9" * 32, "caller", "caller", "joined", since=now))
    ctx.rq.empty()
    FloorJobs(ctx.rq).ring_agent(member, "alice", res.token)
    work(redis)
    assert FailedJobRegistry(queue=ctx.rq).get_job_ids() == []
    assert svc.position(member) == 1
    assert redis.hget(keys.queue_entry(member), "score") == score
    (url,) = redirects_of(fake_twilio, "CA" + "9" * 32)
    assert url.startswith(f"{BASE}/voice/queue/callback/done?")
    assert f"callback={booked.callback_id}" in url
    assert "by=agent" in url
