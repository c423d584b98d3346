"""The agent console's softphone in Chromium.

The REAL vendored Twilio Voice SDK loads in the page under its Content-Security-Policy and is
the recorded version; without an API key the console says what to set. Everything else runs
the console's real softphone code on the Twilio stand-in, as `ivr demo` does: the page loads
the product's demo phone (dashboards/static/pages/standin-device.js, the SDK's Device/Call
surface driving the stand-in's simulated client legs through the app's /demo-phone routes)
instead of the SDK, which cannot reach Twilio from here. No test-only double: what these
tests drive is what the demo ships (tests/browser/test_demo_phone.py checks the demo's own
parts: its note, its routes' access rules)."""

from __future__ import annotations

import json

import pytest
import requests

from dashboards.softphone import VOICE_SDK_VERSION
from ivr.domain.queueing import RecordingSettings, RelaxStep
from ivr.store.floor import FloorStore
from tests.browser.conftest import screenshot, serious_accessibility_problems
from tests.browser.test_admin_flows import live_app, page  # noqa: F401
from tests.browser.waiting import until
from tests.e2e.conftest import live  # noqa: F401
from tests.signin import PASSWORD, add_users
from tests.stream_service import serve_pages_with_streams

pytestmark = pytest.mark.browser


def sign_in(tab, base: str, user: str, path: str = "/agent") -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}{path}")
    tab.fill("#username", user)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{path}")


def test_the_real_sdk_loads_and_is_the_recorded_version(live_app, page):  # noqa: F811
    app, base = live_app  # real-looking Twilio credentials and no API key
    add_users(app.config["IVR"].instance_dir, alice="agent")
    sign_in(page, base, "alice")
    page.wait_for_function("() => window.Twilio && window.Twilio.Device")
    assert page.evaluate("() => Twilio.Device.version") == VOICE_SDK_VERSION
    assert page.evaluate("() => typeof Twilio.Device.prototype.register") == "function"
    error = page.locator("#phone-error")
    error.filter(has_text="TWILIO_API_KEY_SID").wait_for()
    assert page.locator("#device-state").text_content() == "unavailable"


SOUND_NAMES = {"incoming", "outgoing", "disconnect", "dtmfs", "dtmfh",
               *(f"dtmf{d}" for d in range(10))}  # the SDK's Device.SoundName


@pytest.fixture
def keyed_app(redis_url, redis, tmp_path):  # noqa: ARG001 - redis flushes
    """The app on a real port with real-looking credentials AND an API key: the console's
    token is issued, so the REAL SDK's Device is created (then fails to reach Twilio)."""
    from ivr import create_app
    from tests.browser.conftest import LiveServer
    from tests.web.conftest import BASE, TOKEN

    app = create_app({"redis_url": redis_url, "twilio_auth_token": TOKEN,
                      "twilio_account_sid": "AC" + "1" * 32,
                      "twilio_api_key_sid": "SK" + "a1" * 16, "twilio_api_key_secret": "s3" * 20,
                      "public_base_url": BASE, "instance_dir": tmp_path / "instance",
                      "prompts_audio_dir": tmp_path / "no-audio"})
    add_users(tmp_path / "instance", alice="agent")
    server = LiveServer(app).start()
    try:
        yield app, server.base
    finally:
        server.stop()


def test_the_real_sdk_fetches_every_sound_from_this_app(keyed_app, page):  # noqa: F811
    """The vendored SDK preloads its sounds when the Device is created: with the console's
    `sounds` option every one comes from this app (200, audio/mpeg) and nothing is asked of
    sdk.twilio.com, under a policy that no longer names it (issue 14 item 1)."""
    _, base = keyed_app
    requested: list[str] = []
    sounds: dict[str, tuple[int, str]] = {}
    page.on("request", lambda r: requested.append(r.url))
    page.on("response", lambda r: sounds.__setitem__(r.url, (r.status, r.headers.get(
        "content-type", ""))) if "/static/sounds/" in r.url else None)
    answers = []
    page.on("response", lambda r: answers.append(r) if r.url == f"{base}/agent" else None)
    sign_in(page, base, "alice")
    page.wait_for_function("() => window.Twilio && window.Twilio.Device")
    for _ in range(100):  # the Device is made after /agent/token answers
        if len(sounds) >= len(SOUND_NAMES):
            break
        page.wait_for_timeout(100)
    expected = {f"{base}{url}" for url in json.loads(page.locator("#page-data").text_content())[
        "softphone"]["sounds"].values()}
    assert len(expected) == len(SOUND_NAMES)
    assert set(sounds) == expected
    assert all(status == 200 and kind.startswith("audio/") for status, kind in sounds.values())
    assert not [url for url in requested if "sdk.twilio.com" in url]
    policy = answers[-1].headers["content-security-policy"]
    assert "sdk.twilio.com" not in policy
    assert "wss://*.twilio.com" in policy


# -- the console's softphone code on the stand-in (the demo phone) ---------------------------

SLOWER = 6.0  # the stand-in's clock (the call's prompts and holds take 1/6 of their time)
RING_SECONDS = 600


@pytest.fixture
def floor(live, browser, monkeypatch):  # noqa: F811
    """The e2e call centre (tests/e2e/conftest.py: app, stand-in, routing jobs) with agent
    alice (client:alice), a supervisor, and a browser context: on the stand-in the console's
    softphone is the demo phone."""
    import tests.e2e.conftest as e2e

    monkeypatch.setattr(e2e, "SPEED", SLOWER)  # legs read it when they start
    add_users(live.app.config["IVR"].instance_dir, alice="agent", sue="supervisor")
    # Twilio's longest ring (Timeout 600; the stand-in refuses more): 100 s of real ringing at
    # SLOWER. Every ring here is answered or rejected by the test, never left to time out.
    live.configure_queue("support", ring_timeout=RING_SECONDS)
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    context.set_default_timeout(20000)
    yield live, context
    context.close()


def sim(centre, path: str):  # type: ignore[no-untyped-def]
    return requests.get(centre.app.config["IVR"].twilio_api_base + path, timeout=5).json()


def ringing_console(centre, context, caller_script: str = "hold 60; press 5; press 1"):  # type: ignore[no-untyped-def]
    """alice signed in with her softphone registered; a caller routed to her, ringing."""
    tab = context.new_page()
    posted: list[dict] = []  # type: ignore[type-arg]
    tab.on("request", lambda r: posted.append(json.loads(r.post_data or "{}"))
           if r.method == "POST" and r.url.endswith("/agent/device") else None)
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    centre.available("alice")
    caller = centre.call(caller_script)
    until(tab, lambda: tab.locator("#ringing").is_visible(), centre.work, what="the ring")
    return tab, caller, posted


def agent_leg(centre):  # type: ignore[no-untyped-def]
    (leg,) = [a for a in centre.standin.all_legs() if a.to == "client:alice"]
    return leg


def test_the_device_registers_rings_and_accept_joins_the_call(floor):
    centre, context = floor
    tab, caller, posted = ringing_console(centre, context)
    assert posted[0] == {"state": "registered"}  # presence follows the device
    assert sim(centre, "/sim/clients/alice") == {"identity": "alice", "registered": True,
                                                "mode": "manual"}
    # why the caller called, from context.json, on the ringing panel
    tab.locator("#ring-why").filter(has_text="+14155550123 · support").wait_for()
    screenshot(tab, "softphone-ringing")
    tab.click("#accept")
    tab.locator("#controls").wait_for()
    leg = agent_leg(centre)
    until(tab, lambda: any("joined conference" in e.text for e in leg.transcript.events),
          centre.work, what="the agent in the conference")
    assert any(f"cf-{caller.call_sid}" in e.text for e in leg.transcript.events
               if e.kind == "conference")
    tab.locator("#presence").filter(has_text="on call").wait_for()
    screenshot(tab, "softphone-on-call")
    assert serious_accessibility_problems(tab) == []


def test_the_device_is_created_with_every_sound_on_this_origin(floor):
    centre, context = floor
    tab = context.new_page()
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    sounds = tab.evaluate("() => window.IvrAgent.device.options.sounds")
    assert set(sounds) == SOUND_NAMES
    checked = tab.evaluate("""async (sounds) => Promise.all(Object.entries(sounds).map(
      async ([name, url]) => {
        const absolute = new URL(url, location.href), r = await fetch(absolute);
        return [name, absolute.origin === location.origin, r.status,
                r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
      }))""", sounds)
    for name, same_origin, status, kind, size in checked:
        assert same_origin, name
        assert (status, kind) == (200, "audio/mpeg"), name
        assert size > 500, name
    tab.close()


def in_conference(leg) -> bool:  # type: ignore[no-untyped-def]
    return any("joined conference" in e.text for e in leg.transcript.events)


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


def test_the_token_is_renewed_before_it_expires_and_errors_are_shown(floor):
    centre, context = floor
    tab = context.new_page()
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    tab.evaluate("""() => {  // note each token the console hands the Device
      const d = window.IvrAgent.device, update = d.updateToken.bind(d);
      d.tokenUpdates = [];
      d.updateToken = (t) => { update(t); d.tokenUpdates.push(t); };
      d.emit('tokenWillExpire');
    }""")
    tab.wait_for_function("() => window.IvrAgent.device.tokenUpdates.length === 1")
    identity = tab.evaluate("""() => JSON.parse(atob(window.IvrAgent.device.tokenUpdates[0]
        .split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).grants.identity""")
    assert identity == "alice"
    # the audio devices the SDK reports (the demo phone has none: the test gives it two
    # speakers, as the SDK's Device.audio would on a laptop with a headset) can be chosen
    assert tab.locator("#audio").is_hidden()
    tab.evaluate("""() => {
      const audio = window.IvrAgent.device.audio;
      audio.availableOutputDevices = new Map([['default', {deviceId: 'default', label: 'Speaker'}],
        ['usb', {deviceId: 'usb', label: 'Headset'}]]);
      audio.availableInputDevices = new Map([['default', {deviceId: 'default', label: 'Mic'}]]);
      audio.isOutputSelectionSupported = true;
      audio.speakerDevices = {get: () => new Set([audio.availableOutputDevices.get('default')]),
        set: (id) => { audio.chosenSpeaker = id; return Promise.resolve(); }};
      audio.emit('deviceChange');
    }""")
    tab.click("#audio summary")
    tab.select_option("#speaker", "usb")
    tab.wait_for_function("() => window.IvrAgent.device.audio.chosenSpeaker === 'usb'")
    # a move that is not possible now: the 409's reason is shown
    with tab.expect_response(lambda r: "/agent/call/hold" in r.url) as answer:
        tab.evaluate("() => window.IvrAgent.post('/agent/call/hold?agent=alice', "
                     "{call: 'CA' + '0'.repeat(32)})")
    assert answer.value.status in (403, 409)
    assert tab.locator("#phone-error").text_content().startswith(("Not allowed: ",
                                                                   "Not possible now: "))


def supervisor_context(centre, browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    context.set_default_timeout(20000)
    return context


def monitor_leg(centre):  # type: ignore[no-untyped-def]
    return [a for a in centre.standin.all_legs() if a.to == "client:sue"]


def test_a_supervisor_listens_whispers_barges_and_stops(floor, browser):
    centre, context = floor
    streams = serve_pages_with_streams(centre.app, centre.base_url)  # the wallboard's events
    tab, caller, _ = ringing_console(centre, context)
    tab.click("#accept")
    tab.locator("#call-state").filter(has_text="talking").wait_for()
    boss = supervisor_context(centre, browser)
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


def test_an_outgoing_call_from_the_softphone_passes_the_toll_fraud_check(floor):
    centre, context = floor
    tab = context.new_page()
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#dial").wait_for()
    tab.fill("#dial-to", "+19005550134")  # premium rate: refused with the reason
    tab.click("#dial button[type=submit]")
    (refused,) = until(tab, lambda: [a for a in centre.standin.all_legs()
                                     if a.from_ == "client:alice"], what="the outgoing call")
    until(tab, lambda: refused.ended, what="the refused call to end")
    heard = " | ".join(refused.transcript.heard())
    assert "This call cannot be placed: a premium-rate number" in heard
    assert [e for e in refused.transcript.events if e.kind == "dial"] == []  # never dialled
    tab.locator("#dial").wait_for()  # idle again: the dialer is back
    tab.fill("#dial-to", "+1 415 555 0134")
    tab.click("#dial button[type=submit]")
    placed = until(tab, lambda: [a for a in centre.standin.all_legs()
                                 if a.from_ == "client:alice" and a is not refused],
                   what="the second call")[0]
    tab.locator("#controls").wait_for()
    until(tab, lambda: [e for e in placed.transcript.events
                        if e.kind == "dial" and "+14155550134" in e.text], what="the dial")
    tab.click("#hangup")
    until(tab, lambda: placed.ended, what="the hang-up")
    tab.locator("#dial").wait_for()


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
