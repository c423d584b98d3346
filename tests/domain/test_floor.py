"""The agent floor's rules (ivr/domain/floor.py): legal moves become commands and events,
impossible ones are refused with the reason the console shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.domain.floor import (
    Drop,
    Floor,
    Hold,
    Leg,
    Mute,
    Refused,
    Requeue,
    Ring,
    SetMode,
    monitor,
    monitor_stop,
    needs_end,
    plan,
    queue_place,
)

CALLER, ME, OTHER = Leg("CA1", "caller", "caller", "joined", since=1, in_room=True), Leg(
    "CA2", "agent", "alice", "joined", since=2, in_room=True), Leg(
    "CA3", "consult", "bob", "joined", since=3, in_room=True)


def floor(*legs: Leg, **kw) -> Floor:  # type: ignore[no-untyped-def]
    return Floor("CA1", "support", "CF1", legs or (CALLER, ME), **kw)


def test_hold_then_resume_counts_the_seconds():
    held = plan(floor(), "alice", "hold", {}, 100.0)
    assert held.commands == [Hold("CA1", True)]
    assert held.events == [("hold_started", {"agent": "alice"})]
    assert held.floor.held
    assert held.floor.hold_count == 1
    assert held.floor.state() == "held"
    with pytest.raises(Refused, match="already on hold"):
        plan(held.floor, "alice", "hold", {}, 101.0)
    back = plan(held.floor, "alice", "resume", {}, 130.5)
    assert back.commands == [Hold("CA1", False)]
    assert back.events == [("hold_ended", {"agent": "alice", "seconds": 30.5})]
    assert back.floor.hold_seconds == 30.5
    assert back.floor.state() == "talking"
    assert back.floor.view("alice", 200.0)["hold_seconds"] == 30.5


def test_moves_need_my_leg_and_a_live_caller():
    with pytest.raises(Refused, match="bob is not on this call"):
        plan(floor(), "bob", "hold", {}, 1.0)
    with pytest.raises(Refused, match="hung up"):
        plan(floor(Leg("CA1", "caller", "caller", "left"), ME), "alice", "hold", {}, 1.0)
    with pytest.raises(Refused, match="ended"):
        plan(None, "alice", "hold", {}, 1.0)
    with pytest.raises(KeyError):
        plan(floor(), "alice", "dance", {}, 1.0)


def test_moves_on_the_room_wait_until_the_caller_and_the_agent_are_both_in_it():
    """The agent's answer marks the leg joined before Twilio has run its <Conference> (the
    agent first hears the summary; the caller may still hear 'connecting'): the console's
    moves wait for both participant-joins (a hold sent earlier got 409 'not connected yet')."""
    answered = replace(ME, in_room=False)
    for legs in ((CALLER, answered), (replace(CALLER, in_room=False), ME)):
        connecting = floor(*legs)
        assert connecting.state() == "connecting"
        for action, body in (("hold", {}), ("mute", {}), ("consult", {"to_type": "agent",
                                                                        "to": "bob"}),
                             ("transfer", {"to_type": "queue", "to": "sales"})):
            with pytest.raises(Refused, match="still connecting"):
                plan(connecting, "alice", action, body, 1.0)
        assert plan(connecting, "alice", "hangup", {}, 1.0).commands == [Drop("CA2")]
    assert floor().state() == "talking"
    assert floor().view("alice", 1.0)["participants"][1]["in_room"] is True


def test_a_consult_completes_and_a_monitor_changes_mode_only_from_inside_the_room():
    arriving = replace(OTHER, in_room=False)
    with pytest.raises(Refused, match="bob is still connecting"):
        plan(floor(CALLER, ME, arriving, held_since=1.0), "alice", "consult/complete", {}, 2.0)
    monitor_leg = Leg("CA9", "monitor", "sam", "joined", muted=True, mode="listen")
    with pytest.raises(Refused, match="monitor leg is still connecting"):
        monitor(floor(CALLER, ME, monitor_leg), "sam", "whisper")


def test_mute_and_hangup():
    muted = plan(floor(), "alice", "mute", {}, 1.0)
    assert muted.commands == [Mute("CA2", True)]
    assert muted.floor.view("alice", 1)["muted"]
    with pytest.raises(Refused, match="not muted"):
        plan(floor(), "alice", "unmute", {}, 1.0)
    assert plan(floor(), "alice", "hangup", {}, 1.0).commands == [Drop("CA2")]


def test_cold_transfers():
    to_agent = plan(floor(), "alice", "transfer", {"to_type": "agent", "to": "bob"}, 1.0)
    assert to_agent.commands == [Ring("agent", "agent", "bob", after="CA2")]
    assert to_agent.events[0][1]["mode"] == "cold"
    to_queue = plan(floor(), "alice", "transfer", {"to_type": "queue", "to": "sales"}, 1.0)
    assert to_queue.commands == [Requeue("sales")]
    out = plan(floor(), "alice", "transfer", {"to_type": "number", "to": "+14155550100"}, 1.0)
    assert out.commands == [Ring("third", "number", "+14155550100", after="CA2")]
    with pytest.raises(Refused, match="to_type"):
        plan(floor(), "alice", "transfer", {"to_type": "fax", "to": "1"}, 1.0)
    with pytest.raises(Refused, match="already yours"):
        plan(floor(), "alice", "transfer", {"to_type": "agent", "to": "alice"}, 1.0)


def test_warm_transfer_holds_the_caller_then_completes_or_cancels():
    consult = plan(floor(), "alice", "consult", {"to_type": "agent", "to": "bob"}, 10.0)
    assert consult.commands == [Hold("CA1", True), Ring("consult", "agent", "bob")]
    ringing = Leg("CA3", "consult", "bob", "ringing")
    during = floor(CALLER, ME, ringing, held_since=10.0, hold_count=1)
    assert during.state() == "consult"
    with pytest.raises(Refused, match="has not answered yet"):
        plan(during, "alice", "consult/complete", {}, 12.0)
    with pytest.raises(Refused, match="consult first"):
        plan(during, "alice", "transfer", {"to_type": "queue", "to": "sales"}, 12.0)
    joined = floor(CALLER, ME, OTHER, held_since=10.0, hold_count=1)
    done = plan(joined, "alice", "consult/complete", {}, 20.0)
    assert done.commands == [Hold("CA1", False), Drop("CA2")]
    assert done.floor.leg("CA3").role == "agent"
    assert [e[1].get("result") for e in done.events] == [None, "completed"]
    cancel = plan(joined, "alice", "consult/cancel", {}, 20.0)
    assert cancel.commands == [Drop("CA3"), Hold("CA1", False)]
    assert cancel.events[-1][1]["result"] == "cancelled"


def test_add_a_third_party():
    added = plan(floor(), "alice", "add", {"to_type": "number", "to": "+14155550100"}, 1.0)
    assert added.commands == [Ring("third", "number", "+14155550100")]
    assert added.events == [("party_added", {"agent": "alice", "to_type": "number",
                                             "to": "+14155550100"})]


def test_monitoring_modes():
    start = monitor(floor(), "sam", "listen")
    assert start.commands == [Ring("monitor", "supervisor", "sam", mode="listen")]
    assert start.events == [("monitor", {"supervisor": "sam", "mode": "listen",
                                         "agent": "alice"})]
    on = floor(CALLER, ME, Leg("CA9", "monitor", "sam", "joined", muted=True, mode="listen",
                               in_room=True))
    whisper = monitor(on, "sam", "whisper")
    assert whisper.commands == [SetMode("CA9", "whisper", "CA2")]
    with pytest.raises(Refused, match="already in whisper"):
        monitor(whisper.floor, "sam", "whisper")
    assert monitor(on, "sam", "barge").commands == [SetMode("CA9", "barge", None)]
    assert monitor_stop(on, "sam").commands == [Drop("CA9")]
    with pytest.raises(Refused, match="mode must be"):
        monitor(on, "sam", "shout")
    with pytest.raises(Refused, match="no agent"):
        monitor(floor(CALLER), "sam", "listen")


def test_the_conference_ends_when_no_agent_side_leg_is_left_or_ringing():
    assert not needs_end(floor())
    assert not needs_end(floor(CALLER, Leg("CA2", "agent", "alice", "left"),
                               Leg("CA4", "agent", "bob", "ringing")))
    assert needs_end(floor(CALLER, Leg("CA2", "agent", "alice", "left"),
                           Leg("CA9", "monitor", "sam", "joined")))


def test_queue_transfer_keeps_the_first_arrival_and_the_higher_priority():
    assert queue_place(100.0, 1, 5) == (100.0, 5)
    assert queue_place(100.0, 7, 5) == (100.0, 7)


def test_a_callbacks_floor_finds_the_customer_leg_and_refuses_a_queue_transfer():
    """A callback's floor is named for its member (`cb:<id>`); the customer's leg is a call
    of its own, found by its role (the moves hold it, its leaving ends the call)."""
    customer = Leg("CA9", "caller", "caller", "joined", since=1, in_room=True)
    room = Floor("cb:7", "support", "CF1", (customer, ME))
    assert room.is_callback
    assert room.caller == customer
    assert room.state() == "talking"
    assert plan(room, "alice", "hold", {}, 5.0).commands == [Hold("CA9", True)]
    with pytest.raises(Refused, match="can not be transferred to a queue"):
        plan(room, "alice", "transfer", {"to_type": "queue", "to": "sales"}, 5.0)
    assert plan(room, "alice", "transfer", {"to_type": "agent", "to": "dan"}, 5.0).commands == [
        Ring("agent", "agent", "dan", after="CA2")]
    gone = replace(room, legs=(replace(customer, status="left"), ME))
    assert gone.caller_gone
    waiting = Floor("cb:7", "support", None, (ME,))  # agent_first: the customer still rings
    assert waiting.caller is None
    assert not waiting.caller_gone
    assert waiting.state() == "connecting"
