"""A whole shift moment in Chromium (issue 14, its first "Done when"): a caller waits in line;
alice accepts the ring on her console's softphone, holds the caller (the stand-in's
transcript: the caller hears the hold audio) and resumes; she consults dan, who accepts in
his own console, and completes the warm transfer; the supervisor sue listens from the
wallboard's agents table, whispers from there, then barges from her supervisor view of dan's
console; the caller hangs up. Every agent and supervisor move is a click on the product's
pages (three browser contexts: alice, dan, sue), none a JSON call from the test.

Then the call record (/api/calls, as sue) and the caller's history as each agent sees it
(/api/callers/<number>, fetched by alice's and dan's own pages) show every step; the caller
calls again and each agent's console, ringing, lists the first call with those steps; and
every TwiML document the stand-in fetched validated (tests/twiml_validate.py, the stand-in's
validator: a failure is an error in that leg's transcript)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy.orm import sessionmaker

from dashboards.auth import user_engine
from devkit.twilio_standin.leg_steps import RemoteHangup
from queue_worker.outcomes import drain_events
from tests.browser.conftest import screenshot
from tests.browser.softphone_floor import (
    agent_leg,
    client_legs,
    in_conference,
    new_context,
    sign_in,
)
from tests.browser.waiting import until
from tests.e2e.test_queue_calls import events
from tests.signin import add_users
from tests.stream_service import serve_pages_with_streams

pytestmark = pytest.mark.browser
CALLER = "+14155550123"  # tests/e2e/conftest.py Live.call


def console(context: Any, centre: Any, user: str, path: str = "/agent") -> Any:
    """`user`'s console in `context`, their softphone registered on the stand-in."""
    tab = context.new_page()
    sign_in(tab, centre.base_url, user, path)
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    return tab


def answered(tab: Any, url_end: str, action: Any) -> Any:
    """Click (`action`) and return the JSON the page's POST to `url_end` got (200 asserted)."""
    with tab.expect_response(lambda r: r.url.endswith(url_end)
                             and r.request.method == "POST") as answer:
        action()
    assert answer.value.status == 200, answer.value.text()
    return answer.value.json()


def fetch_json(tab: Any, path: str) -> Any:
    """`path` as the page's signed-in user fetches it."""
    return tab.evaluate("async (p) => { const r = await fetch(p);"
                        " return {status: r.status, body: await r.json()}; }", path)


def accept_and_hold(centre: Any, alice: Any) -> Any:
    """The caller waits in line, alice accepts, holds (the caller hears the hold audio) and
    resumes; returns the caller's leg."""
    caller = centre.call("hold 60; press 5; press 1")
    until(alice, lambda: centre.queues.position(caller.call_sid) == 1, centre.work,
          what="the caller in line")
    centre.available("alice")
    until(alice, lambda: alice.locator("#ringing").is_visible(), centre.work, what="the ring")
    alice.click("#accept")
    alice.locator("#call-state").filter(has_text="talking").wait_for()
    until(alice, lambda: in_conference(agent_leg(centre)) and in_conference(caller),
          centre.work, what="alice and the caller in the conference")
    held = answered(alice, "/agent/call/hold?agent=alice", lambda: alice.click("#hold"))
    assert held["floor"]["state"] == "held"
    alice.locator("#hold").filter(has_text="Resume").wait_for()
    until(alice, lambda: [e for e in caller.transcript.events if e.kind == "held"],
          centre.work, what="the caller on hold")
    until(alice, lambda: [r for r in caller.transcript.requests()
                          if "/voice/floor/hold" in (r.url or "")],
          centre.work, what="the stand-in fetching the hold audio (HoldUrl)")
    (on_hold,) = [e.text for e in caller.transcript.events if e.kind == "held"]
    assert "/voice/floor/hold" in on_hold  # "on hold: hears hold music <the app's HoldUrl>"
    alice.locator("#call-state").filter(has_text="caller on hold").wait_for()
    screenshot(alice, "softphone-on-hold")
    answered(alice, "/agent/call/resume?agent=alice", lambda: alice.click("#hold"))
    alice.locator("#hold").filter(has_text="Hold").wait_for()
    until(alice, lambda: [e.kind for e in caller.transcript.events
                          if e.kind in ("held", "talking")][-1] == "talking", centre.work,
          what="the caller back in the conversation")
    return caller


def warm_transfer(centre: Any, alice: Any, dan: Any, caller: Any) -> None:
    """alice consults dan (the caller holds), dan accepts in his console, alice completes."""
    alice.select_option("#to_type", "agent")
    alice.fill("#to", "dan")
    consult = answered(alice, "/agent/call/consult?agent=alice",
                       lambda: alice.click("#transfer button[data-action='consult']"))
    assert consult["floor"]["held"] is True
    until(dan, lambda: dan.locator("#ringing").is_visible(), centre.work, what="dan's ring")
    dan.click("#accept")
    until(alice, lambda: alice.locator("#participants").filter(
        has_text="dan (consult)").count() and alice.locator("#consult-complete").is_enabled(),
        centre.work, what="dan in the consult")
    until(alice, lambda: len([e for e in caller.transcript.events if e.kind == "held"]) == 2,
          centre.work, what="the caller holding during the consult")
    screenshot(alice, "softphone-warm-transfer")
    answered(alice, "/agent/call/consult/complete?agent=alice",
             lambda: alice.click("#consult-complete"))
    until(alice, lambda: agent_leg(centre).ended, centre.work, what="alice to leave")
    dan.locator("#call-state").filter(has_text="talking").wait_for()
    alice.locator("#wrapup").wait_for()


def supervise(centre: Any, boss: Any) -> Any:
    """sue listens and whispers from the wallboard's agents table, then barges from her
    supervisor view of dan's console; returns her monitor leg."""
    view = console(boss, centre, "sue", "/agent?agent=dan")
    board = boss.new_page()
    board.goto(f"{centre.base_url}/wallboard")
    row = board.locator("#agents tr[data-agent='dan']")
    listen = answered(board, "/supervisor/monitor",
                      lambda: row.locator("button[data-mode='listen']").click())
    assert [(p["who"], p["mode"]) for p in listen["floor"]["participants"]
            if p["role"] == "monitor"] == [("sue", "listen")]
    until(view, lambda: view.locator("#ringing").is_visible(), centre.work,
          what="sue's softphone to ring")
    view.click("#accept")
    (leg,) = until(view, lambda: client_legs(centre, "sue"), what="sue's monitor leg")
    until(view, lambda: view.locator("#monitor-status").filter(has_text="Listening").count(),
          centre.work, what="sue listening")
    answered(board, "/supervisor/monitor",
             lambda: row.locator("button[data-mode='whisper']").click())
    board.locator("#monitor-status").filter(has_text="whisper: dan").wait_for()
    until(view, lambda: view.locator("#monitor-status").filter(
        has_text="Whispering to dan").count(), centre.work, what="sue whispering")
    until(view, lambda: any(e.kind == "coach" for e in leg.transcript.events), centre.work,
          what="the whisper (coach) in the stand-in")
    answered(view, "/supervisor/monitor",
             lambda: view.click("#monitor button[data-mode='barge']"))
    until(view, lambda: view.locator("#monitor-status").filter(has_text="In the call").count(),
          centre.work, what="sue in the call")
    view.locator("#participants").filter(has_text="sue (monitor barge)").wait_for()
    screenshot(view, "softphone-supervisor-barge")
    return leg


def test_a_shift_moment_from_the_ring_to_the_caller_hanging_up(floor, browser):
    centre, context = floor  # alice's browser; dan and sue get their own
    add_users(centre.app.config["IVR"].instance_dir, dan="agent")
    streams = serve_pages_with_streams(centre.app, centre.base_url)  # the wallboard's events
    dans, boss = new_context(browser), new_context(browser)
    try:
        alice = console(context, centre, "alice")
        dan = console(dans, centre, "dan")  # registered, not available: not offered the caller
        caller = accept_and_hold(centre, alice)
        warm_transfer(centre, alice, dan, caller)
        monitor = supervise(centre, boss)
        caller.interrupt(RemoteHangup("the caller hung up", own=True))
        until(dan, lambda: caller.completed and monitor.ended
              and client_legs(centre, "dan")[0].ended, centre.work,
              what="the caller gone, and dan and sue with them")
        dan.locator("#wrapup").wait_for()
        until(dan, lambda: "agent_left" in [k for k, d in events(centre, caller.call_sid)
                                            if d.get("agent") == "dan"], centre.work,
              what="dan's agent_left")
        record = written_record(centre, boss, caller.call_sid)
        assert_every_step(record, caller.call_sid)
        assert (record["answered"], record["end_status"]) == (True, "completed")
        for tab in (alice, dan):  # the caller's history, as each agent's console reads it
            history = fetch_json(tab, f"/api/callers/{quote(CALLER, safe='')}?limit=6")
            assert history["status"] == 200
            (seen,) = [c for c in history["body"]["calls"] if c["call_sid"] == caller.call_sid]
            assert_every_step(seen, caller.call_sid)
        the_next_call_shows_what_happened(centre, alice, dan, caller.call_sid)
    finally:
        boss.close()
        dans.close()
        streams.stop()
    for leg in centre.standin.all_legs():  # every TwiML document validated
        assert leg.transcript.ok, leg.transcript.render()


def the_next_call_shows_what_happened(centre: Any, alice: Any, dan: Any, first: str) -> None:
    """The caller calls again: it rings dan, then (dan rejects it) alice, and each console,
    ringing, lists the first call with its steps beside the ring: the caller history the
    next agent sees."""
    presence(alice, "break")
    presence(dan, "available")  # ends his after-call work
    centre.call("hold 60; press 5; press 1")
    assert "transferred alice → dan (warm)" in earlier_call(centre, dan, first)
    screenshot(dan, "softphone-caller-history")
    dan.click("#reject")
    dan.locator("#ringing").wait_for(state="hidden")
    presence(dan, "break")  # before the routing jobs run again: the caller goes to alice
    presence(alice, "available")
    line = earlier_call(centre, alice, first)
    for step in ("answered · support", "with alice, dan", "held 2×",
                 "transferred alice → dan (warm)", "sue listen, then whisper, then barge",
                 "caller hung up on dan"):
        assert step in line, (step, line)


def presence(tab: Any, state: str) -> None:
    tab.click(f".presence button[data-state='{state}']")
    tab.locator("#presence").filter(has_text=state).wait_for()


def earlier_call(centre: Any, tab: Any, call: str) -> str:
    """The line for `call` under Previous calls, once the next call rings `tab`'s agent."""
    until(tab, lambda: tab.locator("#ringing").is_visible(), centre.work, what="the next ring")
    line = tab.locator(f"#previous-calls li[data-call='{call}']")
    line.wait_for()
    return str(line.text_content())


def written_record(centre: Any, boss: Any, call: str) -> dict[str, Any]:
    """The outcome writer folds the call's events into the database (as `ivr worker` does);
    the call record as the supervisor's page reads it."""
    with centre.app.app_context():
        assert drain_events(centre.redis, sessionmaker(user_engine())).failed == 0
    answer = fetch_json(boss.pages[0], f"/api/calls?caller={quote(CALLER, safe='')}")
    assert answer["status"] == 200
    (record,) = [c for c in answer["body"]["calls"] if c["call_sid"] == call]
    return record


def assert_every_step(record: dict[str, Any], call: str) -> None:
    """accept, hold and resume, the warm transfer alice -> dan, each monitoring action with
    who did it, and the caller hanging up on dan (the call record and the caller history
    carry the same floor lists: ivr/store/call_records.floor_json)."""
    assert record["call_sid"] == call
    assert (record["outcome"], record["queue"]) == ("answered", "support")
    # two holds: the Hold button's (resumed), and the consult's (ended by the completion)
    assert (record["hold_count"], record["transferred"]) == (2, True)
    assert record["hold_s"] > 0
    floor = record["floor"]
    assert floor["agents"] == ["alice", "dan"]  # the accepted call, then the transfer's
    work = {w["agent"]: w for w in floor["work"]}
    alice, dan = work["alice"], work["dan"]
    assert (alice["handled"], alice["holds"], alice["transfers"]) == (True, 2, 1)
    assert alice["hold_s"] > 0  # the holds ended (hold_ended): resumed, then completed
    assert (dan["handled"], dan["holds"], dan["transfers"]) == (True, 0, 0)
    assert dan["talk_s"] > 0
    assert [(t["agent"], t["to_type"], t["to"], t["mode"], t["result"])
            for t in floor["transfers"]] == [("alice", "agent", "dan", "warm", "started"),
                                              ("alice", "agent", "dan", "warm", "completed")]
    assert [(m["supervisor"], m["mode"], m["agent"]) for m in floor["monitoring"]] == [
        ("sue", "listen", "dan"), ("sue", "whisper", "dan"), ("sue", "barge", "dan")]
    assert floor["caller_hung_up"]["agent"] == "dan"  # on dan, not after an agent left
