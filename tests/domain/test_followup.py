"""The follow-up rules, pure: call records (folded from events, several per test so a dropped
condition shows) in, task proposals out; and followup.yaml refused with FILE:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.domain.errors import FlowErrors
from ivr.domain.followup import evaluate, evaluate_calls, humanize_seconds
from ivr.domain.followup_rules import load_rules
from ivr.domain.outcome import fold_call

REPO = Path(__file__).resolve().parents[2]
RULES = load_rules((REPO / "followup.yaml").read_text(), "followup.yaml")
NOW = 1_800_000_000.0
T = NOW - 3600


def call(sid: str, *events: tuple[str, float, dict], caller: str = "+14155550100",
         start: float = T):
    evs = [{"id": f"{sid}-0", "kind": "call_started", "call_sid": sid, "at": start,
            "data": {"caller": caller, "dialed": "+14155550100", "flow": "shop"}}]
    evs += [{"id": f"{sid}-{i}", "kind": k, "call_sid": sid, "at": start + at, "data": d}
            for i, (k, at, d) in enumerate(events, 1)]
    return fold_call(sid, evs)


def waited(queue: str, seconds: float, result: str) -> list[tuple[str, float, dict]]:
    return [("queue_joined", 5, {"queue": queue}),
            ("queue_left", 5 + seconds, {"queue": queue, "result": result, "wait": seconds})]


def by_rule(proposals) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in proposals:
        out.setdefault(p.call_sid, []).append(p.rule)
    return out


def test_each_kind_opens_on_its_own_calls_only():
    answered = [("queue_joined", 5, {"queue": "sales"}),
                ("agent_answered", 35, {"queue": "sales", "agent": "bob"}),
                ("queue_left", 35, {"queue": "sales", "result": "bridged", "wait": 30})]
    records = [
        call("CA-long-abandon", *waited("sales", 240, "hangup"), ("call_ended", 250, {}),
             caller="+14155550101"),
        call("CA-short-abandon", *waited("support", 20, "hangup"), ("call_ended", 30, {}),
             caller="+14155550102"),
        call("CA-happy", *answered, ("survey_answer", 200, {"question": "satisfaction",
                                                            "answer": "4", "score": 4}),
             ("survey_answer", 210, {"question": "resolved", "answer": "yes"}),
             ("call_ended", 220, {}), caller="+14155550103"),
        call("CA-unhappy", *answered, ("survey_answer", 200, {"question": "satisfaction",
                                                              "answer": "1", "score": 1}),
             ("survey_answer", 210, {"question": "resolved", "answer": "no"}),
             caller="+14155550104"),
        call("CA-voicemail", ("voicemail_recorded", 40, {"recording": "RE1", "url": "u",
                                                         "duration": 75}),
             caller="+14155550105"),
        call("CA-cb-failed", ("callback_requested", 10, {"callback": "cb1", "queue": "support",
                                                         "number": "+14155550106"}),
             ("callback_attempt", 400, {"callback": "cb1", "attempt": 1, "result": "no-answer"}),
             ("callback_attempt", 800, {"callback": "cb1", "attempt": 2, "result": "busy"}),
             ("callback_done", 801, {"callback": "cb1", "result": "gave_up"}),
             caller="+14155550106"),
        call("CA-cb-ok", ("callback_requested", 10, {"callback": "cb2", "queue": "support",
                                                     "number": "+14155550107"}),
             ("callback_attempt", 400, {"callback": "cb2", "attempt": 1, "result": "answered"}),
             ("callback_done", 500, {"callback": "cb2", "result": "completed"}),
             caller="+14155550107"),
    ]
    found = by_rule(evaluate_calls(records, RULES, NOW))
    assert found == {"CA-long-abandon": ["abandoned_after_wait"],
                     "CA-unhappy": ["low_satisfaction", "not_resolved"],
                     "CA-voicemail": ["voicemail"], "CA-cb-failed": ["callback_failed"]}


def test_reason_team_due_and_sms_come_from_the_rule_and_the_call():
    record = call("CA1", *waited("sales", 240, "hangup"), ("call_ended", 250, {}))
    (p,) = evaluate(record, RULES, NOW)
    assert p.reason == "Hung up after waiting 4 min in sales: call back"
    assert (p.team, p.priority, p.due_at) == ("sales", 2, NOW + 2 * 3600)
    assert (p.sms or "").startswith("Sorry we missed you")
    assert p.caller == "+14155550100"
    failed = call("CA2", ("callback_requested", 10, {"callback": "c", "queue": "billing",
                                                     "number": "+14155550199"}),
                  ("callback_attempt", 400, {"callback": "c", "attempt": 1, "result": "busy"}),
                  ("callback_done", 700, {"callback": "c", "result": "gave_up",
                                          "attempts": 2}))  # attempt 2's event still to come
    (q,) = evaluate(failed, RULES, NOW)
    assert q.reason == "Callback to +14155550199 failed after 2 attempts"
    assert q.team == "support"  # no queue visit on the call: the default team
    assert q.priority == 1


def test_voicemail_task_carries_the_transcript_and_its_status():
    recorded = ("voicemail_recorded", 40, {"recording": "RE1", "url": "u", "duration": 12})
    pending = evaluate(call("CA1", recorded), RULES, NOW)[0]
    ready = evaluate(call("CA1", recorded, ("transcript_ready", 60, {
        "recording": "RE1", "text": "call me about my order"})), RULES, NOW)[0]
    failed = evaluate(call("CA1", recorded, ("transcript_failed", 60, {
        "recording": "RE1", "code": "bad_audio"})), RULES, NOW)[0]
    assert (pending.transcript_status, pending.transcript) == ("pending", None)
    assert (ready.transcript_status, ready.transcript) == ("ready", "call me about my order")
    assert (failed.transcript_status, failed.transcript) == ("failed", None)
    assert {pending.recording_sid, ready.recording_sid, failed.recording_sid} == {"RE1"}
    assert pending.reason == "Left a 12 s voicemail: listen and call back"
    assert (pending.rule, pending.due_at) == (ready.rule, ready.due_at)


def test_self_service_failures_only_once_the_call_ended_without_a_person():
    fail = ("self_service", 10, {"node": "n", "task": "order_status", "solved": False})
    fail2 = ("self_service", 20, {"node": "n", "task": "account_balance", "solved": False})
    records = [
        call("CA-live", fail, fail2, caller="+1415555011"),                       # not ended
        call("CA-gave-up", fail, fail2, ("call_ended", 30, {}), caller="+1415555012"),
        call("CA-once", fail, ("call_ended", 30, {}), caller="+1415555013"),
        call("CA-voicemail", fail, fail2, ("voicemail_recorded", 25, {
            "recording": "R", "url": "u"}), ("call_ended", 40, {}), caller="+1415555014"),
    ]
    proposals = evaluate_calls(records, RULES, NOW)
    assert by_rule(proposals) == {"CA-gave-up": ["self_service_struggle"],
                                  "CA-voicemail": ["voicemail"]}
    (p,) = [p for p in proposals if p.call_sid == "CA-gave-up"]
    assert p.reason == ("Self-service failed 2 times (account_balance, order_status) and "
                        "the caller gave up")


def test_repeat_caller_counts_calls_of_the_same_number_inside_the_window():
    hour = 3600.0
    records = [
        call("CA-a1", caller="+14155550150", start=T - 30 * hour),  # outside 24 h of a3
        call("CA-a2", caller="+14155550150", start=T - 10 * hour),
        call("CA-a3", caller="+14155550150", start=T - 5 * hour),
        call("CA-a4", caller="+14155550150", start=T),
        call("CA-b1", caller="+14155550160", start=T - 2 * hour),
        call("CA-b2", caller="+14155550160", start=T),
        call("CA-x1", caller="anonymous", start=T - hour),
        call("CA-x2", caller="anonymous", start=T - 0.5 * hour),
        call("CA-x3", caller="anonymous", start=T),
    ]
    found = by_rule(evaluate_calls(records, RULES, NOW))
    assert found == {"CA-a4": ["repeat_caller"]}  # a3 sees only a2 in its 24 h; b: 2 calls
    (p,) = [p for p in evaluate_calls(records, RULES, NOW) if p.call_sid == "CA-a4"]
    assert p.reason == "Called 3 times within 24 h"


def test_an_abandon_counts_only_when_nothing_else_followed():
    booked = call("CA-cb", *waited("support", 300, "callback"),
                  ("callback_requested", 305, {"callback": "c", "queue": "support",
                                               "number": "+1"}), ("call_ended", 306, {}),
                  caller="+14155550121")
    still_waiting = call("CA-wait", ("queue_joined", 5, {"queue": "support"}),
                         caller="+14155550122")
    ended_waiting = call("CA-gone", ("queue_joined", 5, {"queue": "support"}),
                         ("call_ended", 200, {}), caller="+14155550123")  # hung up in line
    found = by_rule(evaluate_calls([booked, still_waiting, ended_waiting], RULES, NOW))
    assert found == {"CA-gone": ["abandoned_after_wait"]}


def test_agent_disposition_codes_open_a_task():
    def filed(sid: str, code: str, caller: str):
        return call(sid, ("queue_joined", 1, {"queue": "billing"}),
                    ("agent_answered", 10, {"queue": "billing", "agent": "carol"}),
                    ("call_ended", 100, {}),
                    ("disposition", 120, {"agent": "carol", "code": code,
                                          "notes": "refund needs approval"}), caller=caller)

    records = [filed("CA-f", "follow_up", "+14155550171"),
               filed("CA-r", "resolved", "+14155550172"),
               filed("CA-e", "escalated", "+14155550173")]
    proposals = evaluate_calls(records, RULES, NOW)
    assert by_rule(proposals) == {"CA-f": ["agent_follow_up"], "CA-e": ["agent_follow_up"]}
    assert proposals[0].reason == "carol marked the call follow_up: refund needs approval"
    assert (proposals[0].team, proposals[0].priority) == ("billing", 2)


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (240, "4 min"),
                                                (3900, "1 h 5 min"), (7200, "2 h")])
def test_humanize_seconds(seconds: float, text: str):
    assert humanize_seconds(seconds) == text


GOOD = """\
rules:
  abandoned:
    kind: abandoned
    min_wait: 2m
    reason: "Abandoned after {wait} in {queue}"
    due: 4h
"""


@pytest.mark.parametrize(("text", "line", "fragment"), [
    (GOOD.replace("2m", "120"), 4, "120 is not a duration; write a number and a unit"),
    (GOOD.replace("kind: abandoned", "kind: abandon"), 3, "unknown kind 'abandon'"),
    (GOOD.replace("{queue}", "{queeu}"), 5, "unknown placeholder {queeu}"),
    (GOOD.replace("    due: 4h\n", ""), 2, "missing due:"),
    (GOOD + "    priority: 7\n", 7, "priority must be 1-4"),
    (GOOD + "    colour: red\n", 7, "unknown field 'colour'"),
    (GOOD + "  abandoned:\n    kind: voicemail\n", 7, "key 'abandoned' repeats line 2"),
    (GOOD + "  survey:\n    kind: survey\n    question: resolved\n    reason: x\n    due: 1d\n",
     9, "give exactly one of at_most"),
    (GOOD.replace("    due: 4h", "   due: 4h"), 6, "YAML syntax error"),
    ("", 1, "the file is empty"),
    ("rule:\n  x: 1\n", 1, "unknown section 'rule'"),
])
def test_malformed_rules_are_refused_with_file_and_line(text: str, line: int, fragment: str):
    with pytest.raises(FlowErrors) as caught:
        load_rules(text, "followup.yaml")
    shown = str(caught.value)
    assert f"followup.yaml:{line}: " in shown, shown
    assert fragment in shown, shown


def test_the_shipped_rules_load():
    kinds = {r.kind for r in RULES.rules}
    assert kinds == {"abandoned", "callback_failed", "survey", "voicemail",
                     "self_service_failed", "repeat_caller", "disposition"}
    assert RULES.survey_questions().keys() == {"satisfaction", "resolved"}
