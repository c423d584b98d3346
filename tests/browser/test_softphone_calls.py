"""The agent console's moves on a call in Chromium, on the Twilio stand-in with the demo phone
(tests/browser/softphone_floor.py): hold, keypad, mute and hang-up; reject; an agent at a phone
number; a warm transfer; after-call work; pausing the recording; a supervisor listening,
whispering and barging from the console and stopping from the wallboard. The stand-in's
transcripts show what each party heard."""

from __future__ import annotations

import json

import pytest
import requests

from ivr.domain.queueing import RecordingSettings, RelaxStep
from ivr.store.floor import FloorStore
from tests.browser.conftest import screenshot
from tests.browser.softphone_floor import (
    agent_leg,
    in_conference,
    monitor_leg,
    new_context,
    ringing_console,
    sign_in,
    sim,
)
from tests.browser.waiting import until
from tests.signin import add_users
from tests.stream_service import serve_pages_with_streams

pytestmark = pytest.mark.browser


def test_hold_keypad_mute_and_hang_up(floor):
    centre, context = floor
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#accept")
    leg = agent_leg(centre)
    # "talking" only once the conference said both are in the room (before that: ringing,
    # connecting, with Hold and Transfer disabled): the stand-in has them both in it
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    assert tab.locator("#hold").is_enabled()
    until(tab, lambda: in_conference(leg) and in_conference(caller), centre.work,
          what="the stand-in's transcripts of the two in the conference")
    # while the app does not know the agent is in the room, the console waits
    store = FloorStore(centre.redis)
    store.in_room(caller.call_sid, leg.call_sid, False)
    tab.locator("#call-state").filter(has_text="connecting").wait_for()
    assert tab.locator("#hold").is_disabled()
    assert tab.locator("#transfer button[data-action='consult']").is_disabled()
    store.in_room(caller.call_sid, leg.call_sid, True)
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    with tab.expect_request(lambda r: r.url.endswith("/agent/call/hold?agent=alice")) as held:
        tab.click("#hold")
    assert json.loads(held.value.post_data) == {"call": caller.call_sid}
    assert held.value.response().status == 200
    tab.locator("#hold").filter(has_text="Resume").wait_for()
    assert tab.locator("#hold").get_attribute("aria-pressed") == "true"
    until(tab, lambda: [e for e in caller.transcript.events if e.kind == "held"], centre.work,
          what="the caller on hold, hearing the hold audio")  # the stand-in fetched HoldUrl
    assert any(e.text == "put on hold" for e in caller.transcript.events if e.kind == "hold")
    with tab.expect_request(lambda r: r.url.endswith("/agent/call/resume?agent=alice")):
        tab.click("#hold")
    tab.locator("#hold").filter(has_text="Hold").wait_for()
    tab.click("#keypad button[data-digit='7']")
    until(tab, lambda: [e for e in leg.transcript.events
                        if e.text == "7 (DTMF into the conference)"], centre.work,
          what="the device's DTMF in the conference")
    tab.click("#mute")
    until(tab, lambda: sim(centre, "/sim/clients/alice/calls")[0]["muted"], what="the mute")
    assert tab.locator("#mute").text_content() == "Unmute"
    tab.click("#hangup")
    until(tab, lambda: leg.ended, centre.work, what="the agent's leg to end")
    until(tab, lambda: tab.locator("#controls").is_hidden(), centre.work, what="controls gone")


def test_reject_sends_the_caller_back_and_hides_the_ring(floor):
    centre, context = floor
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#reject")
    tab.locator("#ringing").wait_for(state="hidden")
    until(tab, lambda: agent_leg(centre).ended, centre.work, what="the rejected leg to end")
    assert sim(centre, "/sim/clients/alice/calls") == []
    assert not caller.ended  # back in line, not hung up


def test_a_supervisor_listens_whispers_barges_and_stops(floor, browser):
    centre, context = floor
    streams = serve_pages_with_streams(centre.app, centre.base_url)  # the wallboard's events
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#accept")
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    boss = new_context(browser)
    try:
        console = boss.new_page()
        sign_in(console, centre.base_url, "sue", "/agent?agent=alice")
        console.locator("#device-state").filter(has_text="ready").wait_for()
        assert console.evaluate("() => window.IvrAgent.device.identity") == "sue"  # her own
        with console.expect_request(lambda r: r.url.endswith("/supervisor/monitor")) as asked:
            console.click("#monitor button[data-mode='listen']")
        assert json.loads(asked.value.post_data) == {"call": caller.call_sid, "mode": "listen"}
        until(console, lambda: console.locator("#ringing").is_visible(), centre.work,
              what="the supervisor's softphone to ring")
        console.click("#accept")
        (leg,) = until(console, lambda: monitor_leg(centre), what="the monitor leg")
        # the status follows the monitor leg: ringing, connecting, then in the room
        until(console, lambda: console.locator("#monitor-status").filter(
            has_text="Listening").count(), centre.work, what="the supervisor listening")
        assert in_conference(leg)
        screenshot(console, "softphone-supervisor")
        for mode in ("whisper", "barge"):
            with console.expect_response(lambda r: r.url.endswith("/supervisor/monitor")) as done:
                console.click(f"#monitor button[data-mode='{mode}']")
            assert done.value.status == 200, done.value.text()
        until(console, lambda: any(e.kind == "coach" for e in leg.transcript.events), centre.work,
              what="the whisper (coach) in the stand-in")
        # the wallboard's agent table offers the same buttons for alice's call
        board = boss.new_page()
        board.goto(f"{centre.base_url}/wallboard")
        row = board.locator("#agents tr[data-agent='alice']")
        row.locator("button[data-mode='stop']").wait_for()
        screenshot(board, "wallboard-supervise")
        with board.expect_response(lambda r: r.url.endswith("/supervisor/monitor/stop")) as done:
            row.locator("button[data-mode='stop']").click()
        assert done.value.status == 200, done.value.text()
        board.locator("#monitor-status").filter(has_text="Stopped monitoring alice").wait_for()
        until(console, lambda: leg.ended, centre.work, what="the monitor leg to drop")
    finally:
        boss.close()
        streams.stop()


def test_an_agent_at_a_phone_number_controls_the_call_through_the_api(floor):
    centre, context = floor
    add_users(centre.app.config["IVR"].instance_dir, bob="agent")  # +14155550190: answers
    tab = context.new_page()
    sign_in(tab, centre.base_url, "bob")
    assert tab.locator("#device-state").text_content() == "calls ring your phone"
    assert tab.evaluate("() => window.IvrAgent.device === undefined")  # no Device for a phone
    centre.configure_queue("support", relax=(RelaxStep(0, 1),))  # bob's support level is 2
    centre.available("bob")
    caller = centre.call("hold 60; press 5; press 1")
    until(tab, lambda: tab.locator("#call-state").filter(has_text="talking").count(),
          centre.work, what="bob's phone to answer")
    assert tab.locator("#keypad").is_hidden()  # the phone has its own keys
    with tab.expect_response(lambda r: r.url.endswith("/agent/call/hold?agent=bob")) as held:
        tab.click("#hold")
    assert held.value.status == 200
    until(tab, lambda: [e for e in caller.transcript.events if e.kind == "held"], centre.work,
          what="the caller on hold")
    with tab.expect_response(lambda r: r.url.endswith("/agent/call/hangup?agent=bob")) as done:
        tab.click("#hangup")  # no softphone call: the API ends bob's leg
    assert done.value.status == 200
    (leg,) = [a for a in centre.standin.all_legs() if a.to == "+14155550190"]
    until(tab, lambda: leg.ended, centre.work, what="bob's leg to end")


def test_a_warm_transfer_from_the_console(floor):
    centre, context = floor
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#accept")
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    requests.post(centre.app.config["IVR"].twilio_api_base + "/sim/clients/dan/register",
                  json={"mode": "auto"}, timeout=5).raise_for_status()  # dan answers by himself
    centre.available("dan")
    tab.select_option("#to_type", "agent")
    tab.fill("#to", "dan")
    with tab.expect_response(lambda r: r.url.endswith("/agent/call/consult?agent=alice")) as asked:
        tab.click("#transfer button[data-action='consult']")
    assert asked.value.status == 200, asked.value.text()
    assert json.loads(asked.value.request.post_data) == {
        "call": caller.call_sid, "to_type": "agent", "to": "dan"}
    tab.locator("#consulting").wait_for()
    until(tab, lambda: [e for e in caller.transcript.events if e.kind == "held"], centre.work,
          what="the caller holding during the consult")
    until(tab, lambda: tab.locator("#participants").filter(has_text="dan (consult)").count(),
          centre.work, what="dan in the call")
    with tab.expect_response(lambda r: "/agent/call/consult/complete" in r.url) as done:
        tab.click("#consult-complete")
    assert done.value.status == 200, done.value.text()
    until(tab, lambda: agent_leg(centre).ended, centre.work, what="alice to leave")
    assert not caller.ended  # the caller stays, with dan


def test_after_the_call_the_wrap_up_counts_down_extends_and_ends(floor):
    centre, context = floor
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#accept")
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    tab.click("#hangup")
    until(tab, lambda: agent_leg(centre).ended, centre.work, what="alice to leave")
    tab.locator("#wrapup").wait_for()  # support: wrap_up_seconds 30
    tab.locator("#presence").filter(has_text="wrap up").wait_for()
    left = int(tab.locator("#wrapup-left").text_content().split()[0])
    assert 0 < left <= 30
    with tab.expect_response(lambda r: "/agent/wrapup/extend" in r.url) as extended:
        tab.click("#wrapup-extend")
    assert extended.value.status == 200, extended.value.text()
    assert json.loads(extended.value.request.post_data) == {"seconds": 30}
    until(tab, lambda: int(tab.locator("#wrapup-left").text_content().split()[0]) > 30,
          what="the longer countdown")
    screenshot(tab, "softphone-wrap-up")
    with tab.expect_response(lambda r: "/agent/wrapup/end" in r.url) as ended:
        tab.click("#wrapup-end")
    assert ended.value.status == 200, ended.value.text()
    tab.locator("#wrapup").wait_for(state="hidden")
    tab.locator("#presence").filter(has_text="available").wait_for()


def test_the_agent_pauses_and_resumes_the_recording(floor):
    centre, context = floor
    centre.configure_queue("support", recording=RecordingSettings(mode="on"))
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#accept")
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    until(tab, lambda: tab.locator("#record").is_visible(), centre.work,
          what="the recording to start")
    assert tab.locator("#record").text_content() == "Pause recording"
    with tab.expect_response(lambda r: "/agent/call/record/pause" in r.url) as paused:
        tab.click("#record")  # the caller reads a card number
    assert paused.value.status == 200, paused.value.text()
    tab.locator("#record").filter(has_text="Resume recording").wait_for()
    assert tab.locator("#record").get_attribute("aria-pressed") == "true"
    with tab.expect_response(lambda r: "/agent/call/record/resume" in r.url) as resumed:
        tab.click("#record")
    assert resumed.value.status == 200, resumed.value.text()
    tab.locator("#record").filter(has_text="Pause recording").wait_for()
