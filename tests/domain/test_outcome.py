"""The call-record fold: wait, abandoned, talk time, containment and history, from events."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from ivr.domain.outcome import APPLY, fold_call
from ivr.domain.outcome_events import EVENT_KINDS, BadEvent, check_event, event_problems
from ivr.domain.outcome_record import CallRecord

T0 = 1_700_000_000.0
_ids = itertools.count()


def ev(kind: str, t: float, call: str = "CA1", **data: Any) -> dict[str, Any]:
    check_event(kind, data)  # every scripted event is a valid one
    return {"id": f"e{next(_ids)}", "kind": kind, "call_sid": call, "at": T0 + t, "data": data}


def answered_call(call: str = "CA1") -> list[dict[str, Any]]:
    return [
        ev("call_started", 0, call, caller="+15551230001", dialed="+15559990000",
           flow="main", flow_version="v7"),
        ev("node_visited", 0.5, call, node="welcome"),
        ev("node_visited", 3, call, node="menu"),
        ev("input", 6, call, node="menu", digits="2"),
        ev("node_visited", 6.2, call, node="balance"),
        ev("self_service", 9, call, node="balance", task="balance", solved=False),
        ev("queue_joined", 10, call, queue="support", skill="support"),
        ev("queue_left", 55, call, queue="support", result="bridged", wait=45.0),
        ev("agent_answered", 56, call, queue="support", agent="alice"),
        ev("call_ended", 236, call, duration=236.0, status="completed"),
        ev("disposition", 250, call, agent="alice", code="billing", notes="refund",
           tags=["vip", "refund"]),
        ev("survey_answer", 240, call, question="csat", answer="5", score=5),
        ev("tag", 1, call, tag="vip"),
    ]


def test_answered_call_record() -> None:
    r = fold_call("CA1", answered_call())
    assert (r.caller, r.dialed, r.flow, r.flow_version) == (
        "+15551230001", "+15559990000", "main", "v7")
    assert (r.started_at, r.ended_at, r.duration_s, r.end_status) == (
        T0, T0 + 236, 236.0, "completed")
    assert (r.queue, r.skill, r.wait_s) == ("support", "support", 45.0)
    assert (r.answered, r.abandoned, r.agent, r.talk_s) == (True, False, "alice", 180.0)
    assert r.self_service_contained is False
    assert r.outcome == "answered"
    assert [(s.kind, s.node) for s in r.steps] == [
        ("visit", "welcome"), ("visit", "menu"), ("input", "menu"), ("visit", "balance")]
    assert [s.left_at for s in r.steps if s.kind == "visit"] == [T0 + 3, T0 + 6.2, T0 + 236]
    assert r.steps[2].digits == "2"
    assert [(d.agent, d.code, d.notes) for d in r.dispositions] == [("alice", "billing", "refund")]
    assert r.tags == ["refund", "vip"]
    assert [(a.question, a.score) for a in r.survey_answers] == [("csat", 5)]
    visit = r.queue_visits[0]
    assert (visit.result, visit.agent, visit.answered_at, visit.talk_s) == (
        "bridged", "alice", T0 + 56, 180.0)


def test_fold_ignores_other_calls_and_event_order() -> None:
    mine = answered_call("CA1")
    other = answered_call("CA2")
    other[8]["data"] = {"queue": "support", "agent": "bob"}
    shuffled = mine + other
    random.Random(7).shuffle(shuffled)
    assert fold_call("CA1", shuffled) == fold_call("CA1", mine)
    assert fold_call("CA2", shuffled).agent == "bob"


def test_one_steps_visits_in_one_event_fold_like_one_event_each() -> None:
    start = ev("call_started", 0, caller="+1", dialed="+2", flow="main")
    each = [start, ev("node_visited", 1, node="welcome"), ev("node_visited", 1, node="menu"),
            ev("node_visited", 1, node="balance")]
    batched = [start, ev("nodes_visited", 1, nodes=["welcome", "menu", "balance"],
                         details=["", "", "chose 2"])]
    assert [(s.kind, s.node, s.at) for s in fold_call("CA1", batched).steps] == [
        (s.kind, s.node, s.at) for s in fold_call("CA1", each).steps] == [
        ("visit", n, T0 + 1) for n in ("welcome", "menu", "balance")]


def test_abandoned_in_queue_without_queue_left() -> None:
    events = [ev("call_started", 0, caller="+1", dialed="+2", flow="main"),
              ev("queue_joined", 5, queue="sales", skill="sales"),
              ev("call_ended", 65)]
    r = fold_call("CA1", events)
    assert (r.answered, r.abandoned, r.wait_s, r.talk_s, r.outcome) == (
        False, True, 60.0, None, "abandoned")
    assert r.queue_visits[0].result == "hangup"
    assert r.duration_s == 65.0  # from the timestamps when Twilio gave none


def test_wait_without_reported_wait_uses_timestamps_and_sums_transfers() -> None:
    events = [ev("queue_joined", 0, queue="sales"),
              ev("agent_answered", 20, queue="sales", agent="carol"),
              ev("queue_left", 20, queue="sales", result="bridged"),
              ev("queue_joined", 80, queue="support"),
              ev("queue_left", 110, queue="support", result="bridged", wait=30),
              ev("agent_answered", 110, queue="support", agent="dan"),
              ev("call_ended", 200)]
    r = fold_call("CA1", events)
    assert [v.wait_s for v in r.queue_visits] == [20.0, 30.0]
    assert [v.talk_s for v in r.queue_visits] == [60.0, 90.0]
    assert (r.wait_s, r.talk_s, r.agent, r.queue) == (50.0, 150.0, "dan", "support")


def test_self_service_contained_only_without_queue_callback_or_voicemail() -> None:
    solved = [ev("self_service", 5, node="bal", task="balance", solved=True),
              ev("call_ended", 30)]
    r = fold_call("CA1", solved)
    assert (r.self_service_contained, r.outcome) == (True, "self_service")
    then_queued = [*solved, ev("queue_joined", 10, queue="support")]
    assert fold_call("CA1", then_queued).self_service_contained is False
    assert fold_call("CA1", [ev("call_ended", 3)]).self_service_contained is None
    assert fold_call("CA1", [ev("call_ended", 3)]).outcome == "ivr_hangup"
    assert fold_call("CA1", [ev("node_visited", 1, node="menu")]).outcome == "in_progress"


def test_callback_with_attempts() -> None:
    events = [ev("queue_joined", 0, queue="support"),
              ev("queue_left", 40, queue="support", result="callback", wait=40),
              ev("callback_requested", 41, callback="cb1", queue="support",
                 number="+15551230001"),
              ev("call_ended", 50),
              ev("callback_attempt", 600, callback="cb1", attempt=1, result="no-answer",
                 leg_sid="CAleg1", agent="alice"),
              ev("callback_attempt", 1300, callback="cb1", attempt=2, result="answered",
                 leg_sid="CAleg2", agent="bob"),
              ev("callback_done", 1500, callback="cb1", result="completed")]
    r = fold_call("CA1", events)
    assert (r.outcome, r.answered, r.abandoned) == ("callback", False, False)
    [cb] = r.callbacks
    assert (cb.callback_id, cb.queue, cb.number, cb.status, cb.done_at) == (
        "cb1", "support", "+15551230001", "completed", T0 + 1500)
    assert [(a.attempt, a.result, a.leg_sid, a.agent) for a in cb.attempts] == [
        (1, "no-answer", "CAleg1", "alice"), (2, "answered", "CAleg2", "bob")]


def test_voicemail_and_transcript_in_any_order() -> None:
    events = [ev("transcript_ready", 200, recording="RE1", text="call me", confidence=0.9),
              ev("voicemail_recorded", 100, recording="RE1", url="https://x/RE1", duration=12,
                 queue="billing"),
              ev("call_ended", 115)]
    for order in (events, events[::-1]):
        [vm] = fold_call("CA1", order).voicemails
        assert (vm.url, vm.duration_s, vm.queue, vm.transcript, vm.transcript_confidence) == (
            "https://x/RE1", 12.0, "billing", "call me", 0.9)
    assert fold_call("CA1", events).outcome == "voicemail"


def test_survey_reanswer_keeps_the_last_and_speech_input_keeps_confidence() -> None:
    events = [ev("survey_answer", 1, question="csat", answer="2", score=2),
              ev("survey_answer", 5, question="nps", answer="9", score=9),
              ev("survey_answer", 9, question="csat", answer="4", score=4),
              ev("input", 12, node="ask", speech="billing please", confidence=0.82)]
    r = fold_call("CA1", events)
    assert [(a.question, a.answer) for a in r.survey_answers] == [("nps", "9"), ("csat", "4")]
    assert (r.steps[0].speech, r.steps[0].confidence, r.steps[0].digits) == (
        "billing please", 0.82, None)


def test_unknown_kinds_are_ignored_by_the_fold() -> None:
    events = [{"id": "x", "kind": "from_the_future", "call_sid": "CA1", "at": T0, "data": {}}]
    assert fold_call("CA1", events) == CallRecord(call_sid="CA1")


@pytest.mark.parametrize(("kind", "data", "problem"), [
    ("nope", {}, "unknown event kind 'nope'"),
    ("node_visited", {}, "field 'node' is required"),
    ("queue_left", {"queue": "q", "result": "hangup", "wait": "9"}, "'wait' must be float/int"),
    ("self_service", {"node": "n", "task": "t", "solved": "yes"}, "'solved' must be bool"),
    ("callback_attempt", {"callback": "c", "attempt": True, "result": "busy"},
     "'attempt' must be int"),
    ("disposition", {"agent": "a", "code": "c", "tags": ["ok", 3]}, "every tag"),
])
def test_event_problems(kind: str, data: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in event_problems(kind, data))
    with pytest.raises(BadEvent, match="."):
        check_event(kind, data)


def test_one_table_dispatches_every_kind_the_fold_reads() -> None:
    """The floor's kinds are in the same table as the call's; a kind added to the vocabulary
    is either folded there or named here as read elsewhere."""
    assert set(APPLY) <= EVENT_KINDS
    assert EVENT_KINDS - set(APPLY) == {"sms_survey_sent", "recording_transcript_ready",
                                        "recording_transcript_failed"}
    assert {"agent_left", "hold_ended", "wrap_up", "transfer", "recording"} <= set(APPLY)


def test_every_kind_is_documented_with_fields() -> None:
    assert {"call_started", "node_visited", "input", "self_service", "queue_joined",
            "queue_left", "agent_answered", "call_ended", "callback_requested",
            "callback_attempt", "callback_done", "voicemail_recorded", "transcript_ready",
            "survey_answer", "disposition"} <= EVENT_KINDS
    assert event_problems("call_ended", {}) == []
    assert event_problems("input", {"node": "m", "digits": "1", "extra": 1}) == []
