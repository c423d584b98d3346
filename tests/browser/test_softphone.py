"""The agent console's softphone in Chromium: the phone itself.

The REAL vendored Twilio Voice SDK loads in the page under its Content-Security-Policy and is
the recorded version; without an API key the console says what to set. Everything else runs
the console's real softphone code on the Twilio stand-in, as `ivr demo` does
(tests/browser/softphone_floor.py): the device registers, rings, takes a token renewal and
places an outgoing call. The moves on a call (hold, transfer, wrap-up, recording, a
supervisor) are in test_softphone_calls.py, a whole shift moment in test_shift.py;
tests/browser/test_demo_phone.py checks the demo phone's own parts (its note, its routes'
access rules)."""

from __future__ import annotations

import json

import pytest

from dashboards.softphone import VOICE_SDK_VERSION
from tests.browser.conftest import screenshot, serious_accessibility_problems
from tests.browser.softphone_floor import (
    agent_leg,
    ringing_console,
    sign_in,
    sim,
)
from tests.browser.test_admin_flows import live_app, page  # noqa: F401
from tests.browser.waiting import until
from tests.signin import add_users

pytestmark = pytest.mark.browser


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
