"""The agent floor's events in the call record (ivr/domain/outcome_floor.py): holds, talk
without hold, after-call work, transfers, monitoring, recordings, missed rings and the
agents who handled the call. Pure."""

from __future__ import annotations

import random

import pytest

from ivr.domain.outcome import fold_call
from tests.domain.test_outcome import T0, ev


def warm_transfer_call() -> list[dict]:
    """alice answers, holds twice, warm-transfers to bob who talks and wraps up; a
    supervisor listens then barges; the call is recorded and paused once; the caller hangs
    up on bob."""
    return [
        ev("call_started", 0, caller="+15551230001", dialed="+15559990000", flow="main"),
        ev("queue_joined", 10, queue="support", skill="support"),
        ev("agent_missed", 20, agent="dan", result="no-answer"),
        ev("queue_left", 40, queue="support", result="bridged", wait=30.0),
        ev("agent_answered", 41, queue="support", agent="alice"),
        ev("recording", 42, recording="RE1", action="started", channels=2),
        ev("hold_started", 60, agent="alice"),
        ev("hold_ended", 75, agent="alice", seconds=15.0),
        ev("monitor", 80, supervisor="sue", mode="listen", agent="alice"),
        ev("recording", 85, recording="RE1", action="paused"),
        ev("recording", 95, recording="RE1", action="resumed"),
        ev("transfer", 100, agent="alice", to_type="agent", to="bob", mode="warm",
           result="started"),
        ev("hold_started", 100, agent="alice"),
        ev("hold_ended", 130, agent="alice", seconds=30.0),
        ev("transfer", 130, agent="alice", to_type="agent", to="bob", mode="warm",
           result="completed"),
        ev("agent_left", 131, agent="alice", talk=90.0, hold=45.0),  # in the call 41-131
        ev("monitor", 140, supervisor="sue", mode="barge", agent="bob"),
        ev("party_added", 150, agent="bob", to_type="number", to="+15551110000"),
        ev("caller_hung_up", 200, agent="bob"),
        ev("agent_left", 200, agent="bob", talk=100.0, hold=45.0),  # 100-200, 30 s on hold
        ev("recording", 201, recording="RE1", action="completed", duration=150.0),
        ev("call_ended", 201, duration=201.0, status="completed"),
        ev("wrap_up", 161, agent="alice", seconds=30.0, ended="timeout", extended=0.0),
        ev("wrap_up", 230, agent="bob", seconds=29.5, ended="early", extended=20.0),
    ]


def test_a_warm_transfer_call_record_has_every_step_and_the_figures():
    r = fold_call("CA1", warm_transfer_call())
    f = r.floor
    assert f.agents == ["alice", "bob"]
    assert (f.hold_count, f.hold_s, f.after_call_s, f.transferred) == (2, 45.0, 59.5, True)
    assert r.talk_s == 115.0  # alice 90 - 45 + bob 100 - 30: the caller's holds left out
    alice, bob = f.work
    assert (alice.agent, alice.talk_s, alice.hold_s, alice.holds, alice.after_call_s,
            alice.transfers, alice.handle_s) == ("alice", 45.0, 45.0, 2, 30.0, 1, 120.0)
    assert (bob.agent, bob.queue, bob.talk_s, bob.hold_s, bob.after_call_s, bob.handle_s) == (
        "bob", "support", 70.0, 0.0, 29.5, 99.5)
    assert [(t.to, t.mode, t.result) for t in f.transfers] == [
        ("bob", "warm", "started"), ("bob", "warm", "completed")]
    assert [(m.supervisor, m.mode, m.agent) for m in f.monitoring] == [
        ("sue", "listen", "alice"), ("sue", "barge", "bob")]
    [rec] = f.recordings
    assert (rec.recording_sid, rec.status, rec.duration_s, rec.channels, rec.pauses) == (
        "RE1", "completed", 150.0, 2, 1)
    assert [(p.agent, p.to) for p in f.parties_added] == [("bob", "+15551110000")]
    assert [(m.agent, m.result) for m in f.missed_rings] == [("dan", "no-answer")]
    assert (f.caller_hung_up.agent, f.caller_hung_up.at) == ("bob", T0 + 200.0)
    [visit] = r.queue_visits  # alice answered the visit: her share of the work is on it
    assert (visit.agent, visit.talk_s, visit.hold_s, visit.hold_count, visit.after_call_s,
            visit.transferred, visit.handle_s) == ("alice", 45.0, 45.0, 2, 30.0, True, 120.0)


def test_the_fold_does_not_depend_on_the_order_events_arrive_in():
    events = warm_transfer_call()
    expected = fold_call("CA1", events)
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert fold_call("CA1", shuffled) == expected


def test_a_plain_bridged_call_keeps_its_talk_and_adds_after_call_work():
    """No conference events (the bridge before the floor): talk is the visit's."""
    r = fold_call("CA1", [
        ev("queue_joined", 0, queue="sales", skill="sales"),
        ev("agent_answered", 20, queue="sales", agent="carol"),
        ev("call_ended", 120, duration=120.0, status="completed"),
        ev("wrap_up", 135, agent="carol", seconds=15.0, ended="timeout"),
    ])
    [w] = r.floor.work
    assert (w.talk_s, w.hold_s, w.after_call_s, w.handle_s, w.holds) == (100.0, 0.0, 15.0,
                                                                         115.0, 0)
    assert r.talk_s == 100.0
    assert r.queue_visits[0].handle_s == 115.0
    assert (r.floor.transferred, r.floor.hold_count, r.floor.agents) == (False, 0, ["carol"])
    assert r.floor.caller_hung_up is None  # nobody said so: no caller_hung_up event


@pytest.mark.parametrize(("results", "mode", "moved"), [
    (["started"], "cold", True),           # a cold transfer moves the caller when it starts
    (["started", "failed"], "cold", False),
    (["started"], "warm", False),          # a warm one only when completed
    (["started", "cancelled"], "warm", False),
    (["started", "caller_hung_up"], "warm", False),
    (["started", "completed"], "warm", True),
])
def test_which_transfers_count(results, mode, moved):
    events = [ev("queue_joined", 0, queue="support"),
              ev("agent_answered", 5, queue="support", agent="alice")]
    events += [ev("transfer", 10 + i, agent="alice", to_type="queue", to="sales", mode=mode,
                  result=res) for i, res in enumerate(results)]
    r = fold_call("CA1", events)
    assert r.floor.transferred is moved
    assert r.queue_visits[0].transferred is moved


def test_a_hold_still_on_when_the_agent_left_counts_from_agent_left():
    r = fold_call("CA1", [
        ev("queue_joined", 0, queue="support"),
        ev("agent_answered", 5, queue="support", agent="alice"),
        ev("hold_started", 10, agent="alice"),
        ev("agent_left", 40, agent="alice", talk=35.0, hold=30.0),
    ])
    [w] = r.floor.work
    assert (w.holds, w.hold_s, w.talk_s, w.handle_s) == (1, 30.0, 5.0, 35.0)
