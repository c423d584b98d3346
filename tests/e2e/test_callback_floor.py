"""Callbacks on the agent floor end to end (issue 14 point 2, docs/agent-floor.md "Callbacks"):
a callback whose turn has come meets its agent in a conference, as a routed caller does, so
the console's hold, transfer and the supervisor's monitoring work on it, and the events are
filed under the call that asked for the callback. Agents are simulated softphones (the
stand-in's /sim/clients devices), the customer an answering number with a script; the real
twilio client makes every REST call against the stand-in, which validates every TwiML
document (tests/twiml_validate.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from devkit.twilio_standin.leg_steps import RemoteHangup
from ivr.domain.queueing import RecordingSettings
from ivr.store import keys
from tests import signin
from tests.e2e.conftest import Live
from tests.e2e.test_floor_calls import accept, console, device, floor_of, joined, sim
from tests.e2e.test_queue_calls import events, kinds

RING_SECONDS = 600  # as tests/e2e/test_floor_calls.py: the tests decide each ring themselves
CUSTOMER = "+14155550102"
FLOOR_KINDS = ("agent_answered", "hold_started", "hold_ended", "transfer", "monitor",
               "agent_left", "agent_missed", "caller_hung_up", "wrap_up", "callback_attempt",
               "callback_done")


@pytest.fixture(autouse=True)
def slow_rings(live: Live) -> None:
    for name in list(live.queues.queues):
        live.configure_queue(name, ring_timeout=RING_SECONDS)
    signin.add_users(live.app.config["IVR"].instance_dir, alice="agent", dan="agent",
                     sam="supervisor")
    for name in ("alice", "dan", "sam"):
        device(live, name)


def callback_mode(live: Live, mode: str, **changes: Any) -> None:
    cfg = live.queues.queues["support"].callback
    live.configure_queue("support", callback=replace(cfg, mode=mode, ring_timeout=RING_SECONDS,
                                                     **changes))


def book(live: Live) -> tuple[Any, str]:
    """A caller asks for a callback to their own number; returns their leg and the member."""
    asker = live.call("hold 1; press 1; press 1", from_=CUSTOMER)
    live.run_until(lambda: asker.completed)
    (booked,) = [d for k, d in events(live, asker.call_sid) if k == "callback_requested"]
    return asker, f"cb:{booked['callback']}"


def customer_leg(live: Live) -> Any:
    legs = [leg for leg in live.standin.all_legs() if leg.to == CUSTOMER]
    return legs[-1] if legs else None


def talking(live: Live, member: str, agent: str) -> bool:
    floor = floor_of(live, member)
    return joined(live, member, "agent", agent) and floor.state() == "talking"


def test_agent_first_callback_holds_is_monitored_and_cold_transferred(live: Live):
    live.standin.config.callee_scripts[CUSTOMER] = "hold 40; wait 900"  # type: ignore[index]
    callback_mode(live, "agent_first")
    asker, member = book(live)
    live.available("alice")
    accept(live, "alice")  # the agent first; the customer is rung when she is in the room
    live.run_until(lambda: talking(live, member, "alice"))
    customer = customer_leg(live)
    assert floor_of(live, member).caller.leg == customer.call_sid
    alice, sam = console(live, "alice"), console(live, "sam")
    held = alice("/agent/call/hold", {"call": member})
    assert held.status_code == 200, held.get_json()
    assert held.get_json()["floor"]["state"] == "held"
    live.run_until(lambda: any("/voice/floor/hold" in (r.url or "")
                               for r in customer.transcript.requests()))
    resumed = alice("/agent/call/resume", {"call": member})
    assert resumed.status_code == 200, resumed.get_json()
    listen = sam("/supervisor/monitor", {"call": member, "mode": "listen"})
    assert listen.status_code == 200, listen.get_json()
    accept(live, "sam")
    live.run_until(lambda: joined(live, member, "monitor", "sam"))
    refused = alice("/agent/call/transfer", {"call": member, "to_type": "queue", "to": "sales"})
    assert refused.status_code == 409, refused.get_json()
    moved = alice("/agent/call/transfer", {"call": member, "to_type": "agent", "to": "dan"})
    assert moved.status_code == 200, moved.get_json()
    accept(live, "dan")
    live.run_until(lambda: joined(live, member, "agent", "dan")
                   and live.queues.agents.get("alice").presence.value == "wrap_up")
    assert live.queues.agents.get("dan").presence.value == "on_call"
    assert alice("/agent/wrapup/end", {}).status_code == 200  # after-call work on the record
    customer.interrupt(RemoteHangup("the customer hung up", own=True))
    live.run_until(lambda: "callback_done" in kinds(live, asker.call_sid)
                   and kinds(live, asker.call_sid).count("agent_left") == 2)
    seen = events(live, asker.call_sid)
    assert [d["agent"] for k, d in seen if k == "agent_answered"] == ["alice"]
    assert [k for k, _ in seen if k.startswith("hold_")] == ["hold_started", "hold_ended"]
    assert [(d["supervisor"], d["mode"]) for k, d in seen if k == "monitor"] == [
        ("sam", "listen")]
    assert [(d["agent"], d["mode"], d["result"], d["to"]) for k, d in seen
            if k == "transfer"] == [("alice", "cold", "started", "dan"),
                                    ("alice", "cold", "completed", "dan")]
    assert [d["agent"] for k, d in seen if k == "agent_left"] == ["alice", "dan"]
    assert [d["agent"] for k, d in seen if k == "caller_hung_up"] == ["dan"]
    assert [d["agent"] for k, d in seen if k == "wrap_up"] == ["alice"]
    assert [(d["result"], d["leg_sid"]) for k, d in seen if k == "callback_attempt"] == [
        ("answered", customer.call_sid)]
    assert [d["result"] for k, d in seen if k == "callback_done"] == ["completed"]
    assert not [k for k in kinds(live, member) if k in FLOOR_KINDS]  # all on the record
    assert live.queues.position(member) is None
    for leg in live.standin.all_legs():
        assert leg.transcript.ok, leg.transcript.render()


def test_customer_first_callback_warm_transferred_then_the_agent_hangs_up(live: Live):
    live.standin.config.callee_scripts[CUSTOMER] = "hold 40; wait 900"  # type: ignore[index]
    callback_mode(live, "customer_first")
    asker, member = book(live)
    live.available("alice")
    live.run_until(lambda: customer_leg(live) is not None
                   and floor_of(live, member) is not None)  # the customer first
    accept(live, "alice")
    live.run_until(lambda: talking(live, member, "alice"))
    customer = customer_leg(live)
    assert "we are returning your call" in " | ".join(customer.transcript.heard())
    alice = console(live, "alice")
    consult = alice("/agent/call/consult", {"call": member, "to_type": "agent", "to": "dan"})
    assert consult.status_code == 200, consult.get_json()
    accept(live, "dan")
    live.run_until(lambda: joined(live, member, "consult", "dan"))
    done = alice("/agent/call/consult/complete", {"call": member})
    assert done.status_code == 200, done.get_json()
    live.run_until(lambda: joined(live, member, "agent", "dan")
                   and live.queues.agents.get("alice").presence.value == "wrap_up")
    dan = console(live, "dan")  # the callback is dan's now
    assert dan("/agent/call/hangup", {"call": member}).status_code == 200
    live.run_until(lambda: customer.completed and "callback_done" in kinds(live, asker.call_sid))
    live.run_until(lambda: live.queues.agents.get("dan").presence.value == "wrap_up")
    seen = events(live, asker.call_sid)
    assert [d["agent"] for k, d in seen if k == "agent_answered"] == ["alice"]
    assert [(d["mode"], d["result"]) for k, d in seen if k == "transfer"] == [
        ("warm", "started"), ("warm", "completed")]
    assert [k for k, _ in seen if k.startswith("hold_")] == ["hold_started", "hold_ended"]
    assert [d["agent"] for k, d in seen if k == "agent_left"] == ["alice", "dan"]
    assert [d["result"] for k, d in seen if k == "callback_attempt"] == ["answered"]
    assert [d["result"] for k, d in seen if k == "callback_done"] == ["completed"]
    assert "caller_hung_up" not in kinds(live, asker.call_sid)  # the agent ended it
    assert not [k for k in kinds(live, member) if k in FLOOR_KINDS]
    for leg in live.standin.all_legs():
        assert leg.transcript.ok, leg.transcript.render()


def test_unanswered_callback_keeps_its_place_retries_then_gives_up(live: Live):
    """agent_first: the agent waits in the room, the customer does not answer: the attempt
    is counted, the agent let go without talk or wrap-up, the callback keeps its score."""
    live.callees[CUSTOMER] = "busy"
    callback_mode(live, "agent_first", retries=1, retry_delay=3)
    asker, member = book(live)
    score = live.redis.hget(keys.queue_entry(member), "score")
    live.available("alice")
    first = accept(live, "alice")
    live.run_until(lambda: kinds(live, asker.call_sid).count("callback_attempt") == 1)
    live.run_until(lambda: live.queues.place(member) == ("support", 1)
                   and floor_of(live, member).ended)
    assert live.redis.hget(keys.queue_entry(member), "score") == score  # the same place
    room = floor_of(live, member)
    assert room is not None  # she waited in the callback's room
    assert room.ended
    assert [(p.leg, p.status) for p in room.legs] == [(first, "left")]
    second = accept(live, "alice")  # the retry, after the queue's delay
    assert second != first
    live.run_until(lambda: "callback_done" in kinds(live, asker.call_sid)
                   and kinds(live, asker.call_sid).count("callback_attempt") == 2)
    seen = events(live, asker.call_sid)
    assert [(d["result"], d["counted"], d["attempt"]) for k, d in seen
            if k == "callback_attempt"] == [("busy", True, 1), ("busy", True, 2)]
    assert [d["result"] for k, d in seen if k == "callback_done"] == ["gave_up"]
    for kind in ("agent_answered", "agent_left", "wrap_up"):
        assert kind not in kinds(live, asker.call_sid)
    live.run_until(lambda: live.queues.agents.get("alice").presence.value == "available")
    for leg in live.standin.all_legs():
        assert leg.transcript.ok, leg.transcript.render()


def test_customer_first_agent_who_rejects_sends_the_callback_back_in_line(live: Live):
    """customer_first: the customer waits in the room, the agent's ring is rejected: not
    counted, the agent's missed ring filed on the record, the customer let go, the callback
    back in line with its place."""
    live.standin.config.callee_scripts[CUSTOMER] = "hold 40; wait 900"  # type: ignore[index]
    callback_mode(live, "customer_first")
    asker, member = book(live)
    score = live.redis.hget(keys.queue_entry(member), "score")
    live.available("alice")
    live.run_until(lambda: bool(sim(live, "/sim/clients/alice/calls", method="GET")))
    (ring,) = sim(live, "/sim/clients/alice/calls", method="GET")
    sim(live, f"/sim/clients/alice/calls/{ring['sid']}/reject")
    live.run_until(lambda: "callback_attempt" in kinds(live, asker.call_sid))
    customer = customer_leg(live)
    live.run_until(lambda: customer.completed)
    seen = events(live, asker.call_sid)
    assert [(d["unanswered_by"], d["counted"]) for k, d in seen if k == "callback_attempt"] == [
        ("agent", False)]
    assert [d["agent"] for k, d in seen if k == "agent_missed"] == ["alice"]
    assert live.redis.hget(keys.queue_entry(member), "score") == score
    assert live.queues.place(member)[0] == "support"
    assert live.queues.agents.get("alice").presence.value == "break"
    assert customer.transcript.ok, customer.transcript.render()


@pytest.mark.parametrize("mode", ["customer_first", "agent_first"])
def test_a_recorded_callback_tells_the_customer_and_files_the_recording_on_the_asking_call(
        live: Live, mode: str):
    """A queue that records: its callbacks are recorded like its routed calls, whoever is
    rung first. The customer hears the notice before meeting the agent, the agent's leg is
    recorded from the moment both are on, and the recording's events join the record of the
    call that asked."""
    live.standin.config.callee_scripts[CUSTOMER] = "hold 40; wait 900"  # type: ignore[index]
    live.configure_queue("support", recording=RecordingSettings("on"))
    callback_mode(live, mode)
    asker, member = book(live)
    live.available("alice")
    if mode == "customer_first":
        live.run_until(lambda: customer_leg(live) is not None
                       and floor_of(live, member) is not None)
    accept(live, "alice")
    live.run_until(lambda: talking(live, member, "alice"))
    customer = customer_leg(live)
    heard = " | ".join(customer.transcript.heard())
    assert "This call may be recorded for quality and training." in heard
    live.run_until(lambda: recording_actions(live, asker.call_sid) == ["started"]
                   and floor_of(live, member).recording == "on")
    agent_leg = floor_of(live, member).mine("alice").leg
    (rec,) = live.standin.call_recordings.of_call(agent_leg)
    assert rec.channels == 2
    alice = console(live, "alice")
    paused = alice("/agent/call/record/pause", {"call": member})
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json()["floor"]["recording"] == "paused"
    assert alice("/agent/call/record/resume", {"call": member}).status_code == 200
    customer.interrupt(RemoteHangup("the customer hung up", own=True))
    live.run_until(lambda: "callback_done" in kinds(live, asker.call_sid)
                   and recording_actions(live, asker.call_sid)[-1:] == ["completed"])
    assert recording_actions(live, asker.call_sid) == ["started", "paused", "resumed",
                                                       "completed"]
    (done,) = [d for k, d in events(live, asker.call_sid)
               if k == "recording" and d["action"] == "completed"]
    assert done["channels"] == 2
    assert not [k for k in kinds(live, member) if k in FLOOR_KINDS + ("recording",)]
    for leg in live.standin.all_legs():
        assert leg.transcript.ok, leg.transcript.render()


def recording_actions(live: Live, call: str) -> list[str]:
    return [d["action"] for k, d in events(live, call) if k == "recording"]
