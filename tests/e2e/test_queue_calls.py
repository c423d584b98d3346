"""Callers through the queue end to end: hold loop, agents, callbacks, abandons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ivr.store import keys
from tests.e2e.conftest import Live


def events(live: Live, call_sid: str) -> list[tuple[str, dict]]:
    out = []
    for _, fields in live.redis.xrange(keys.events_stream()):
        if fields[b"call"].decode() == call_sid:
            out.append((fields[b"kind"].decode(), json.loads(fields[b"data"])))
    return out


def kinds(live: Live, call_sid: str) -> list[str]:
    return [kind for kind, _ in events(live, call_sid)]


def test_waiting_caller_hears_position_then_reaches_an_agent_and_the_survey(live: Live):
    leg = live.call("hold 40; press 5; press 1")
    live.run_until(lambda: live.queues.position(leg.call_sid) == 1)
    live.run_until(lambda: len(leg.transcript.heard()) >= 4)
    live.available("alice")
    live.run_until(lambda: leg.completed)
    heard = " | ".join(leg.transcript.heard())
    assert "You are next in line." in heard
    assert "Your estimated wait is" in heard
    assert "An agent is about to take your call." in heard
    assert "On a scale of 1 to 5" in heard  # the survey after the agent hung up
    assert leg.transcript.ok, leg.transcript.render()
    # the agent's own leg (rung by the floor job, docs/agent-floor.md) hears who is calling
    (agent_leg,) = [a for a in live.standin.all_legs() if a.to == "client:alice"]
    assert agent_leg.transcript.ok, agent_leg.transcript.render()
    assert "Support call about support." in " | ".join(agent_leg.transcript.heard())
    seen = kinds(live, leg.call_sid)
    for kind in ("call_started", "queue_joined", "agent_answered", "queue_left",
                 "survey_answer", "call_ended"):
        assert kind in seen, seen
    left = dict(events(live, leg.call_sid))["queue_left"]
    assert left["result"] == "bridged"
    assert left["wait"] > 0
    # the outcome says whether the wait fell inside the range told at joining (issue 15)
    assert 0 <= left["range_low"] <= left["range_high"]
    assert left["in_range"] == (left["range_low"] <= left["wait"] <= left["range_high"])
    survey = [d for k, d in events(live, leg.call_sid) if k == "survey_answer"]
    assert {(d["question"], d["answer"]) for d in survey} == {("satisfaction", "5"),
                                                             ("resolved", "yes")}
    assert live.queues.agents.get("alice").presence.value == "wrap_up"


def test_caller_who_hangs_up_while_waiting_is_an_abandon(live: Live):
    leg = live.call("hold 2; hangup")
    live.run_until(lambda: leg.completed)
    left = dict(events(live, leg.call_sid))["queue_left"]
    assert left["result"] == "hangup"
    assert live.queues.position(leg.call_sid) is None
    assert live.queues.snapshot("support", 0).abandoned == 1
    assert kinds(live, leg.call_sid).count("queue_left") == 1


def test_callback_keeps_the_place_and_calls_back(live: Live):
    first = live.call("hold 20", from_="+14155550101")
    live.run_until(lambda: live.queues.position(first.call_sid) == 1)
    second = live.call("hold 1; press 1; press 1", from_="+14155550102")
    live.run_until(lambda: second.completed)
    heard = " | ".join(second.transcript.heard())
    assert "number ending in" in heard
    assert "Your callback is booked." in heard
    assert "call you back as soon as someone is free" in heard  # the flow's on_callback
    (booked,) = [d for k, d in events(live, second.call_sid) if k == "callback_requested"]
    member = f"cb:{booked['callback']}"
    assert booked["number"] == "+14155550102"
    assert live.queues.position(member) == 2  # behind the caller who came first
    live.available("alice")
    live.run_until(lambda: first.completed)
    live.available("dan")
    live.run_until(lambda: "callback_done" in kinds(live, second.call_sid))
    done = [d for k, d in events(live, second.call_sid) if k == "callback_done"]
    assert done == [{"callback": booked["callback"], "result": "completed"}]
    attempts = [d for k, d in events(live, second.call_sid) if k == "callback_attempt"]
    assert [a["result"] for a in attempts] == ["answered"]
    assert live.queues.position(member) is None


def test_caller_keys_another_number_for_the_callback(live: Live):
    leg = live.call("hold 1; press 1; press 2; press 123#; press 4155550177#")
    live.run_until(lambda: leg.completed)
    assert leg.transcript.ok, leg.transcript.render()  # every document passed the TwiML rules
    heard = " | ".join(leg.transcript.heard())
    assert "Sorry, we can't call that number." in heard  # 123 is refused, then re-asked
    (booked,) = [d for k, d in events(live, leg.call_sid) if k == "callback_requested"]
    assert booked["number"] == "+14155550177"


def test_caller_books_a_callback_for_later(live: Live):
    leg = live.call("hold 1; press 1; press 3; press 30#; press 2#")
    live.run_until(lambda: leg.completed)
    assert leg.transcript.ok, leg.transcript.render()
    heard = " | ".join(leg.transcript.heard())
    assert "Sorry, I didn't get that." in heard  # 30 hours is more than a day ahead
    assert "We will call you in about 2 hours." in heard
    (booked,) = [d for k, d in events(live, leg.call_sid) if k == "callback_requested"]
    live.available("alice", "dan")
    live.work()
    assert live.queues.position(f"cb:{booked['callback']}") == 1  # waits for its time
    assert live.queues.agents.get("alice").presence.value == "available"


def test_overflow_rule_sends_a_long_waiting_caller_to_voicemail(live: Live):
    from ivr.domain.queueing import OverflowRule

    live.configure_queue("support", overflow=OverflowRule(after=1.0, action="voicemail"))
    leg = live.call('hold 30; say "please call me about my order"')
    live.run_until(lambda: leg.completed)
    assert leg.transcript.ok, leg.transcript.render()
    assert "Please leave your name" in " | ".join(leg.transcript.heard())
    assert [e for e in leg.transcript.events if e.kind == "recorded"]
    left = dict(events(live, leg.call_sid))["queue_left"]
    assert left["result"] == "overflow"
    assert "voicemail_recorded" in kinds(live, leg.call_sid)
    assert live.queues.position(leg.call_sid) is None


def test_metrics_report_queue_sizes_and_estimate_error(live: Live):
    import urllib.request

    from prometheus_client import REGISTRY

    def count(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    errors_before = count("ivr_estimate_error_seconds_count")
    waits_before = count("ivr_webhook_seconds_count", endpoint="queue.wait")
    started = datetime.now(UTC)
    leg = live.call("hold 40; press 4; press 1")
    live.run_until(lambda: any("waitUrl" in e.text for e in leg.transcript.requests()))
    with urllib.request.urlopen(f"{live.base_url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert 'ivr_queue_callers{queue="support"} 1.0' in text
    live.available("alice")
    live.run_until(lambda: leg.completed)
    assert count("ivr_estimate_error_seconds_count") == errors_before + 1
    handoff = live.app.extensions["ivr"].handoff
    days = {t.strftime("%Y-%m-%d"): t for t in (started, datetime.now(UTC))}  # midnight passing
    answered = sum((handoff.estimate_accuracy("support", t) or {}).get("answered", 0)
                   for t in days.values())
    assert answered == 1  # the wallboard's announced-vs-actual for today
    assert count("ivr_webhook_seconds_count", endpoint="queue.wait") > waits_before


def test_position_and_estimate_change_as_the_line_moves_and_skills_decide(live: Live):
    first = live.call("hold 60", from_="+14155550111")
    live.run_until(lambda: live.queues.position(first.call_sid) == 1)
    second = live.call("hold 60", from_="+14155550112")
    live.run_until(lambda: "You are number 2 in line." in second.transcript.heard())
    live.available("carol")  # sales and billing only: must not take a support caller
    live.work()
    assert live.queues.position(first.call_sid) == 1
    assert live.queues.agents.get("carol").presence.value == "available"
    live.available("alice")
    live.run_until(lambda: live.queues.position(second.call_sid) == 1)
    live.run_until(lambda: "You are next in line." in second.transcript.heard())
    live.run_until(lambda: len([h for h in second.transcript.heard()
                                if h.startswith("Your estimated wait is")]) >= 2)
    heard = second.transcript.heard()
    assert heard.index("You are number 2 in line.") < heard.index("You are next in line.")
    estimates = [h for h in heard if h.startswith("Your estimated wait is")]
    assert len(estimates) >= 2
    live.run_until(lambda: "agent_answered" in kinds(live, first.call_sid))  # alice's whisper
    bridged = [d for k, d in events(live, first.call_sid) if k == "agent_answered"]
    assert bridged == [{"queue": "support", "agent": "alice"}]
