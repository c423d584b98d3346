"""Interpreter walks: each node type, retries, checksums, failures, the loop guard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ivr.domain.flow import interpreter
from ivr.domain.flow.actions import (
    CallState,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Lookup,
    Record,
    Say,
)
from ivr.domain.flow.model import Flow

from .conftest import LA, TUESDAY_10AM, Call, event

MENU = """\
main:
  type: menu
  say: menu
  retries: 2
  options:
    '1': {goto: ask, speech: {en-US: [orders, order], es-US: [pedido]}}
    '2': {goto: bye, language: es-US, speech: [spanish]}
ask:
  type: input
  say: ask
  store: order_number
  min_length: 8
  max_length: 8
  checksum: luhn
  retries: 1
  next: find
find:
  type: lookup
  source: orders
  params: {order_number: "{{ order_number }}"}
  store: order
  found: total
  not_found: bye
total: {type: say, say: total, resolves: order_status, next: bye}
bye: {type: hangup, say: bye, reason: done}
"""


def test_start_speaks_then_waits_on_a_gather(make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(MENU))
    gather = call.last
    assert isinstance(gather, Gather)
    assert gather.input == "dtmf speech"
    assert gather.num_digits == 1
    assert gather.prompts[0].text == "Press 1 for orders."
    assert gather.prompts[0].prompt_id == "menu"
    assert {"orders", "order", "agent", "operator"} <= set(gather.hints)
    assert "pedido" not in gather.hints                 # synonyms of the call's language
    assert call.state.waiting == "main"
    assert call.state.path[0].node == "main"
    assert call.state.path[0].at == TUESDAY_10AM.isoformat()


def test_state_survives_a_json_round_trip(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(MENU)
    call = Call(flow)
    call.press("1")
    stored = CallState.from_dict(call.state.to_dict())
    state, actions = interpreter.step(flow, stored, event(digits="10000008"))
    assert isinstance(actions[-1], Lookup)
    assert state.vars["order_number"] == "10000008"


def test_menu_retries_then_reaches_a_human(make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(MENU))
    call.press("7")
    assert call.texts[0] == "invalid input"          # the invalid_input system prompt
    assert isinstance(call.last, Gather)
    call.silence()
    assert call.texts[0] == "no input"
    call.press("9")                                  # third failure: retries (2) used up
    assert isinstance(call.last, Enqueue)
    assert call.last.queue == "support"
    assert call.state.path[-2].detail == "invalid input; retries used up"


def test_zero_and_agent_reach_a_human_from_any_menu(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(MENU)
    pressed = Call(flow)
    pressed.press("0")
    assert isinstance(pressed.last, Enqueue)
    spoken = Call(flow)
    spoken.say("can I talk to a representative please")
    assert isinstance(spoken.last, Enqueue)
    assert spoken.state.outcome["inputs"] == [
        {"node": "main", "speech": "can I talk to a representative please",
         "confidence": 0.9}]


def test_menu_can_override_zero(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(MENU.replace("    '2':", "    '0': bye\n    '2':"))
    call = Call(flow)
    call.press("0")
    assert call.last == Hangup("done")


def test_speech_synonyms_and_language_choice(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(MENU)
    call = Call(flow)
    call.say("Spanish")
    assert call.state.language == "es-US"
    assert call.state.outcome["language"] == "es-US"
    assert call.texts == ["es: Bye."]
    low = Call(flow)
    low.say("orders", confidence=0.1)                # too unsure: re-prompt
    assert low.state.waiting == "main"


def test_input_checksum_reprompts_then_fails_to_human(make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(MENU))
    call.press("1")
    call.press("10000009")                           # Luhn fails
    assert call.state.waiting == "ask"
    assert call.texts == ["invalid input", "Enter your number."]
    call.press("123")                                # too short, retries (1) used up
    assert isinstance(call.last, Enqueue)


def test_lookup_found_speaks_money_and_marks_self_service(
        make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(MENU))
    call.press("1")
    call.press("10000008")
    assert call.last == Lookup("orders", {"order_number": "10000008"}, 3.0)
    call.answer("lookup_result", ok=True, record={"total": "42.50"}, error=None)
    assert call.texts == ["Your total is forty-two dollars and fifty cents.", "Bye."]
    assert call.last == Hangup("done")
    assert call.state.ended
    assert call.state.outcome["self_service"] == [
        {"node": "total", "task": "order_status", "solved": True}]
    assert call.state.outcome["end"] == "done"


def test_lookup_failure_takes_the_fallback(make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(MENU))
    call.press("1")
    call.press("10000008")
    call.answer("lookup_result", ok=False, record=None, error="timeout")
    assert isinstance(call.last, Enqueue)
    assert call.last.node == "_fallback"
    assert call.state.outcome["errors"] == ["lookup orders: timeout"]


def test_lookup_not_found(make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(MENU))
    call.press("1")
    call.press("10000008")
    call.answer("lookup_result", ok=True, record=None, error=None)
    assert call.last == Hangup("done")


def test_wrong_event_or_vanished_node_goes_to_fallback(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(MENU)
    call = Call(flow)
    call.answer("record_result", url=None)
    assert call.texts == ["technical difficulty"]
    assert isinstance(call.last, Enqueue)
    ghost = CallState(flow="test", version="old", language="en-US", waiting="deleted_node")
    state, actions = interpreter.step(flow, ghost, event(digits="1"))
    assert isinstance(actions[-1], Enqueue)
    assert "deleted_node" in state.outcome["errors"][0]


def test_loop_guard_sends_the_caller_to_fallback(make_flow: Callable[..., Flow]) -> None:
    # The validator rejects silent cycles, so the guard trips on a long silent chain.
    hops = interpreter.MAX_HOPS + 5
    chain = "".join(f"g{i}: {{type: goto, goto: g{i + 1}}}\n" for i in range(hops))
    call = Call(make_flow(chain + f"g{hops}: {{type: goto, goto: agents}}\n", start="g0"))
    assert isinstance(call.last, Enqueue)
    assert call.last.node == "_fallback"
    assert call.state.outcome["errors"][0].startswith("loop guard")
    assert call.texts == ["technical difficulty"]


def test_set_branch_and_goto(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow("""\
main: {type: set, values: {tier: "{{ caller.Tier }}", count: 3}, next: route}
route:
  type: branch
  cases:
    - {if: "tier == 'gold' and count >= 3", goto: vip}
  else: agents
vip: {type: goto, goto: bye}
bye: {type: hangup, reason: vip}
""")
    gold = Call(flow, caller={"Tier": "gold"})
    assert gold.last == Hangup("vip")
    assert gold.state.path[1].detail == "if tier == 'gold' and count >= 3"
    plain = Call(flow, caller={"Tier": "basic"})
    assert isinstance(plain.last, Enqueue)


HOURS = """\
main:
  type: hours
  schedule: office
  open: agents
  closed: shut
  holiday: party
shut: {type: voicemail, mailbox: after_hours}
party: {type: hangup, reason: holiday}
"""


def test_hours_open_closed_holiday_emergency(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(HOURS)
    assert isinstance(Call(flow).last, Enqueue)
    night = Call(flow, now=datetime(2026, 11, 24, 20, 0, tzinfo=LA))
    assert night.last == Record(mailbox="after_hours")
    assert Call(flow, now=datetime(2026, 12, 25, 10, 0, tzinfo=LA)).last == Hangup("holiday")
    storm = Call(flow, flags={"emergency_closed": "true"})
    assert storm.last == Record(mailbox="after_hours")   # emergency defaults to closed
    assert storm.state.path[0].detail == "emergency"


def test_queue_results_resume_the_flow(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow("""\
main:
  type: queue
  queue: sales
  skill: vip_sales
  priority: 5
  reason: upgrade
  say: bye
  on_bridged: rate
rate:
  type: survey
  questions:
    - {id: score, say: q1}
    - {id: solved, say: q2, kind: yes_no}
""")
    call = Call(flow)
    assert call.texts == ["Bye."]
    assert call.last == Enqueue("sales", "main", "vip_sales", 5, "upgrade")
    full = Call(flow)
    full.answer("queue_result", result="queue-full")
    assert isinstance(full.last, Record)                  # default: voicemail
    assert full.texts == ["voicemail intro"]
    gone = Call(flow)
    gone.answer("queue_result", result="hangup")
    assert gone.state.ended
    assert gone.state.outcome["end"] == "caller_hangup"
    call.answer("queue_result", result="bridged")
    assert call.texts == ["Rate us 1 to 5."]
    call.press("7")                                       # out of range: asked again once
    assert call.texts == ["invalid input", "Rate us 1 to 5."]
    call.press("8")                                       # still invalid: no answer
    assert call.texts == ["Solved? 1 yes, 2 no."]
    call.say("yes")
    assert call.state.outcome["survey"] == {"score": None, "solved": "yes"}
    assert call.last == Hangup("completed")


def test_voicemail_and_transfer(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow("""\
main:
  type: transfer
  number: "+14155550123"
  timeout: 20
  on_failure: vm
vm: {type: voicemail, mailbox: sales, max_length: 60}
""")
    call = Call(flow)
    assert call.last == Dial("+14155550123", 20)
    call.answer("dial_result", status="busy")
    assert call.last == Record(max_length=60, mailbox="sales")
    call.answer("record_result", url="https://x/r.wav", duration=12)
    assert call.last == Hangup("completed")
    assert call.state.outcome["voicemail"] == {"mailbox": "sales", "url": "https://x/r.wav",
                                               "duration": 12}
    assert call.state.outcome["transfer"] == {"number": "+14155550123", "status": "busy"}


def test_ended_call_only_hangs_up(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow("main: {type: hangup, say: bye, reason: done}\n")
    call = Call(flow)
    assert call.actions == (Say(call.actions[0].speech), Hangup("done"))  # type: ignore[union-attr]
    call.press("1")
    assert call.actions == (Hangup("done"),)



ZERO_WAYS = """\
main:
  type: input
  say: ask
  store: account
  min_length: 6
  max_length: 6
  speech: true
  next: rate
rate:
  type: survey
  questions:
    - {id: score, say: q1}
"""


def test_zero_or_agent_while_an_input_asks_reaches_a_human(
        make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(ZERO_WAYS)
    pressed = Call(flow)
    pressed.press("0")
    assert pressed.last == Enqueue("support", "agents", "support", 0, None)
    assert "asked for a human" in [v.detail for v in pressed.state.path]
    spoken = Call(flow)
    spoken.say("I want an agent please")
    assert isinstance(spoken.last, Enqueue)
    entry = Call(flow)
    entry.press("012345")                                 # a 0 inside an entry is a digit
    assert entry.state.vars["account"] == "012345"
    assert entry.texts == ["Rate us 1 to 5."]


def test_zero_reaches_a_human_from_a_survey_unless_the_node_says_otherwise(
        make_flow: Callable[..., Flow]) -> None:
    call = Call(make_flow(ZERO_WAYS))
    call.press("123456")
    assert "agent" in call.last.hints                     # type: ignore[union-attr]
    call.press("0")
    assert isinstance(call.last, Enqueue)
    closed = Call(make_flow(ZERO_WAYS + "  human: false\n"))
    closed.press("123456")
    closed.press("0")                                     # invalid: asked again, not queued
    assert closed.texts == ["invalid input", "Rate us 1 to 5."]
    no_human = Call(make_flow(ZERO_WAYS.replace("  speech: true",
                                                "  speech: true\n  human: false")))
    no_human.press("0")
    assert no_human.texts == ["invalid input", "Enter your number."]
