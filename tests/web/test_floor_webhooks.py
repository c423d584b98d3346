"""The agent floor's webhooks against the contract (docs/agent-floor.md), posted signed as
Twilio posts them: the bridge puts the caller in a conference and queues the agent's ring;
the agent's leg answering connects the caller; a ring nobody takes puts the caller back in
line with an `agent_missed`; the agent leaving files `agent_left`, starts wrap-up and asks
for the conference's end; the conference's callback keeps the floor state."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from rq import Queue

from ivr.domain.flow.actions import Enqueue
from ivr.store import keys
from ivr.store.floor import FloorStore
from ivr.store.jobs import ROUTING_QUEUE
from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import standard_params


@pytest.fixture
def routed(app, call_sid):
    """A caller in `support` with alice reserved and the bridge job's redirect done."""
    svc = app.extensions["ivr"]
    engine = svc.queue_engine
    now = time.time()
    svc.calls.store.mark(call_sid, language="en-US")
    assert svc.handoff.join(call_sid, Enqueue(queue="support", node="q"), {"From": "+1415"},
                            datetime.now(UTC), seq=1, language="en-US", check_hours=False) is None
    engine.agents.device("alice", "registered", now)  # her softphone is signed in
    engine.agent_presence("alice", "available", now)
    result = engine.route("support", now)
    (res,) = [r for r in result.reservations if r.member == call_sid]
    engine.begin_bridge(res.token, now)
    return svc, res.token


def events(redis, call_sid):
    return [(f[b"kind"].decode(), json.loads(f[b"data"]))
            for _, f in redis.xrange(keys.events_stream()) if f[b"call"].decode() == call_sid]


def jobs(redis, prefix):
    return [j for j in Queue(ROUTING_QUEUE, connection=redis).get_jobs()
            if j.id.startswith(prefix)]


def test_bridge_answers_a_conference_and_queues_the_ring(post, routed, call_sid, redis):
    _, token = routed
    resp = post(f"/voice/queue/bridge?agent=alice&reservation={token}",
                standard_params(call_sid))
    xml = resp.get_data(as_text=True)
    assert_valid_twiml(xml)
    assert f">cf-{call_sid}</Conference>" in xml
    assert 'startConferenceOnEnter="false"' in xml
    assert 'endConferenceOnExit="true"' in xml
    assert f"/voice/floor/events?call={call_sid}" in xml
    assert "/voice/queue/dialed?agent=alice" in xml
    (ring,) = jobs(redis, "floor-ring-")
    assert ring.args == (call_sid, "alice", token)
    assert FloorStore(redis).load(call_sid).queue == "support"


def answer_leg(post, call_sid, token, leg):
    path = f"/voice/floor/agent?call={call_sid}&role=agent&who=alice&reservation={token}"
    return post(path, standard_params(leg, Direction="outbound-api", To="client:alice"))


def test_agent_answers_then_leaves(post, routed, call_sid, redis):
    svc, token = routed
    post(f"/voice/queue/bridge?agent=alice&reservation={token}", standard_params(call_sid))
    leg = "CA" + "a" * 32
    xml = answer_leg(post, call_sid, token, leg).get_data(as_text=True)
    assert_valid_twiml(xml)
    assert xml.index("<Say") < xml.index("<Dial")  # who is calling, before joining
    assert 'startConferenceOnEnter="true"' in xml
    assert 'participantLabel="agent"' in xml
    # the agent may join before the caller (who still hears "connecting"): the room then
    # takes its status callback from the agent's leg, so it must name ours too
    assert f"/voice/floor/events?call={call_sid}" in xml
    assert 'statusCallbackEvent="start end join leave mute hold"' in xml
    seen = [k for k, _ in events(redis, call_sid)]
    assert "agent_answered" in seen
    assert "queue_left" in seen
    assert svc.queue_engine.agents.get("alice").presence.value == "on_call"
    assert FloorStore(redis).load(call_sid).state() == "connecting"  # hearing the summary
    for sid in (call_sid, leg):  # the conference's callbacks: the two are in the room
        post(f"/voice/floor/events?call={call_sid}", standard_params(
            sid, ConferenceSid="CF" + "1" * 32, FriendlyName=f"cf-{call_sid}",
            StatusCallbackEvent="participant-join"))
        floor = FloorStore(redis).load(call_sid)
        assert floor.conference == "CF" + "1" * 32
        assert floor.state() == ("connecting" if sid == call_sid else "talking")
    left = post(f"/voice/floor/left?call={call_sid}&role=agent&who=alice&leg={leg}",
                standard_params(leg, DialCallStatus="completed"))
    assert_valid_twiml(left.get_data(as_text=True))
    (gone,) = [d for k, d in events(redis, call_sid) if k == "agent_left"]
    assert gone["agent"] == "alice"
    assert gone["talk"] >= 0
    assert svc.queue_engine.agents.get("alice").presence.value == "wrap_up"
    assert [j.args for j in jobs(redis, "floor-end-")] == [(call_sid,)]
    # the caller's Dial action then resumes the flow as answered (the survey path)
    done = post("/voice/queue/dialed?agent=alice&reservation=" + token,
                standard_params(call_sid, DialCallStatus="completed", DialCallDuration="30"))
    assert_valid_twiml(done.get_data(as_text=True))
    assert [d["result"] for k, d in events(redis, call_sid) if k == "queue_left"] == ["bridged"]
    assert "caller_hung_up" not in [k for k, _ in events(redis, call_sid)]  # alice left


def test_the_caller_hanging_up_in_the_conference_is_filed_with_the_agent(post, routed,
                                                                        call_sid, redis):
    """Twilio requests the caller's Dial action even when the caller hung up, with their
    CallStatus `completed` (an agent leaving ends the room with the call in progress)."""
    _, token = routed
    post(f"/voice/queue/bridge?agent=alice&reservation={token}", standard_params(call_sid))
    answer_leg(post, call_sid, token, "CA" + "a" * 32)
    done = post("/voice/queue/dialed?agent=alice&reservation=" + token,
                standard_params(call_sid, CallStatus="completed", DialCallStatus="completed",
                                DialCallDuration="30"))
    assert_valid_twiml(done.get_data(as_text=True))
    assert [d for k, d in events(redis, call_sid) if k == "caller_hung_up"] == [
        {"agent": "alice"}]


def test_ring_nobody_answers_puts_the_caller_back_with_the_same_place(post, routed, call_sid,
                                                                     redis):
    svc, token = routed
    post(f"/voice/queue/bridge?agent=alice&reservation={token}", standard_params(call_sid))
    leg = "CA" + "b" * 32
    resp = post(f"/voice/floor/leg?call={call_sid}&role=agent&who=alice&reservation={token}",
                standard_params(leg, CallStatus="no-answer"))
    assert resp.status_code == 204
    assert [d for k, d in events(redis, call_sid) if k == "agent_missed"] == [
        {"agent": "alice", "result": "no-answer"}]
    assert svc.queue_engine.position(call_sid) == 1
    assert svc.queue_engine.agents.missed_rings("alice") == 1
    (redirect,) = jobs(redis, "floor-redirect-")
    assert redirect.args[1].endswith(f"/voice/floor/back?call={call_sid}")
    back = post(f"/voice/floor/back?call={call_sid}", standard_params(call_sid))
    xml = back.get_data(as_text=True)
    assert_valid_twiml(xml)
    assert "<Enqueue" in xml
    # a repeated callback changes nothing
    post(f"/voice/floor/leg?call={call_sid}&role=agent&who=alice&reservation={token}",
         standard_params(leg, CallStatus="no-answer"))
    assert len([k for k, _ in events(redis, call_sid) if k == "agent_missed"]) == 1


def test_agent_answering_after_the_caller_hung_up_hears_so(post, routed, call_sid, redis):
    svc, token = routed
    post(f"/voice/queue/bridge?agent=alice&reservation={token}", standard_params(call_sid))
    post("/voice/status", standard_params(call_sid, CallStatus="completed"))
    xml = answer_leg(post, call_sid, token, "CA" + "c" * 32).get_data(as_text=True)
    assert_valid_twiml(xml)
    assert "the caller has hung up" in xml
    assert "<Hangup" in xml


def test_wait_and_hold_documents_are_valid_wait_twiml(post, routed, call_sid):
    for path in ("wait", "hold"):
        resp = post(f"/voice/floor/{path}?call={call_sid}", standard_params(call_sid))
        assert_valid_twiml(resp.get_data(as_text=True), context="wait")


def test_floor_webhooks_refuse_unsigned_requests(post, call_sid):
    for path in ("agent", "left", "leg", "events", "wait", "hold", "back"):
        assert post(f"/voice/floor/{path}?call={call_sid}", standard_params(call_sid),
                    signed=False).status_code == 403


def test_transfer_to_a_queue_keeps_the_first_arrival(post, routed, call_sid, redis):
    svc, token = routed
    joined = int(redis.hget(keys.queue_entry(call_sid), "joined_at"))
    post(f"/voice/queue/bridge?agent=alice&reservation={token}", standard_params(call_sid))
    answer_leg(post, call_sid, token, "CA" + "d" * 32)
    later = svc.handoff.join("CA" + "e" * 32, Enqueue(queue="sales", node="q"), {},
                             datetime.now(UTC), seq=1, language="en-US", check_hours=False)
    assert later is None
    resp = post(f"/voice/floor/requeue?call={call_sid}&queue=sales", standard_params(call_sid))
    xml = resp.get_data(as_text=True)
    assert_valid_twiml(xml)
    assert "<Enqueue" in xml
    assert ">sales</Enqueue>" in xml
    assert int(redis.hget(keys.queue_entry(call_sid), "joined_at")) == joined
    assert svc.queue_engine.position(call_sid) == 1  # ahead of the one who came later
    assert svc.queue_engine.agents.get("alice").presence.value == "wrap_up"


def test_a_recording_queue_tells_the_caller_and_records_the_agents_leg(post, routed, call_sid,
                                                                       redis):
    from dataclasses import replace

    from ivr.domain.queueing import RecordingSettings

    svc, token = routed
    engine = svc.queue_engine
    engine.queues["support"] = replace(engine.queues["support"],
                                       recording=RecordingSettings(mode="on"))
    bridge = post(f"/voice/queue/bridge?agent=alice&reservation={token}",
                  standard_params(call_sid)).get_data(as_text=True)
    assert_valid_twiml(bridge)
    notice = svc.floor_recording.notice("support", "en-US")
    assert notice
    assert notice in bridge
    assert bridge.index(notice) < bridge.index("<Dial")  # told before the bridge
    leg = "CA" + "f" * 32
    answer_leg(post, call_sid, token, leg)
    assert [j.args for j in jobs(redis, "record-")] == [(call_sid, leg)]


def test_a_late_end_of_the_callers_previous_room_leaves_the_new_one_alone(post, routed,
                                                                          call_sid, redis):
    """The room is named for the caller (`cf-<CallSid>`): after a ring nobody answered the
    caller's next bridge opens a room with the same name. The first room's
    `conference-end` arriving late (Twilio does not order callbacks) names the old
    ConferenceSid: it must not end the new room's floor state."""
    svc, token = routed
    first, second = "CF" + "1" * 32, "CF" + "2" * 32

    def room(conference: str, sid: str, event: str):  # noqa: ANN202
        return post(f"/voice/floor/events?call={call_sid}", standard_params(
            sid, ConferenceSid=conference, FriendlyName=f"cf-{call_sid}",
            StatusCallbackEvent=event))

    post(f"/voice/queue/bridge?agent=alice&reservation={token}", standard_params(call_sid))
    room(first, call_sid, "participant-join")
    post(f"/voice/floor/leg?call={call_sid}&role=agent&who=alice&reservation={token}",
         standard_params("CA" + "b" * 32, CallStatus="no-answer"))
    post(f"/voice/floor/back?call={call_sid}", standard_params(call_sid))
    engine = svc.queue_engine
    engine.agent_presence("alice", "available", time.time())  # she is back: routed again
    (res,) = [r for r in engine.route("support", time.time()).reservations
              if r.member == call_sid]
    engine.begin_bridge(res.token, time.time())
    post(f"/voice/queue/bridge?agent=alice&reservation={res.token}", standard_params(call_sid))
    assert room(first, call_sid, "conference-end").status_code == 204  # the old room, late
    floor = FloorStore(redis).load(call_sid)
    assert not floor.ended
    assert floor.conference is None  # not the old room's SID
    assert not floor.caller_gone
    room(second, call_sid, "participant-join")
    assert FloorStore(redis).load(call_sid).conference == second
    room(first, call_sid, "participant-leave")  # and any other late event of the old room
    assert FloorStore(redis).load(call_sid).leg(call_sid).in_room
    room(second, call_sid, "conference-end")  # the new room's own end still counts
    assert FloorStore(redis).load(call_sid).ended
