"""The CallLeg against a fake IVR, in-process (Flask test client) and over real HTTP: the same
engine code, two transports. Every TwiML document is checked by tests/twiml_validate.py."""

from __future__ import annotations

import re

import pytest

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport, HttpTransport
from tests.sim.conftest import TOKEN
from tests.twiml_validate import twiml_problems

IN_PROCESS_BASE = "http://127.0.0.1:5000"


@pytest.fixture(params=["in-process", "http"])
def make_leg(request, fake_ivr):
    def build(script: str, token: str | None = TOKEN, **options) -> CallLeg:
        if request.param == "in-process":
            base, transport = IN_PROCESS_BASE, FlaskTransport(fake_ivr)
        else:
            base, transport = request.getfixturevalue("fake_ivr_url"), HttpTransport()
        opts = LegOptions(validate=twiml_problems, **options)
        return CallLeg(base, transport, Script.parse(script), auth_token=token, options=opts)
    return build


def hooks(app) -> list[tuple[str, dict[str, str]]]:
    return app.config["HOOKS"]


def test_gather_enqueue_leave_and_status_callback(make_leg, fake_ivr):
    leg = make_leg("press 1; hold 2; press 9")
    transcript = leg.run()
    assert transcript.ok, transcript.render()
    paths = [path for path, _ in hooks(fake_ivr)]
    assert paths == ["/voice", "/menu", "/wait", "/wait", "/wait", "/wait-key", "/queue-done",
                     "/voice/status"]
    first = hooks(fake_ivr)[0][1]
    assert re.fullmatch(r"CA[0-9a-f]{32}", first["CallSid"])
    assert re.fullmatch(r"AC[0-9a-f]{32}", first["AccountSid"])
    assert first["CallStatus"] == "ringing"
    assert (first["Direction"], first["ApiVersion"]) == ("inbound", "2010-04-01")
    assert first["Caller"] == first["From"] == "+15555550100"
    assert first["Called"] == first["To"] == "+15555550199"
    assert first["FromCountry"] == "US"
    assert hooks(fake_ivr)[1][1]["Digits"] == "1"
    assert hooks(fake_ivr)[1][1]["CallStatus"] == "in-progress"
    waits = [form for path, form in hooks(fake_ivr) if path == "/wait"]
    for form in waits:
        assert {"QueuePosition", "QueueSid", "QueueTime", "AvgQueueTime", "CurrentQueueSize",
                "MaxQueueSize"} <= form.keys()
        assert form["QueuePosition"] == "1"
        assert form["MaxQueueSize"] == "1000"
    assert int(waits[-1]["QueueTime"]) > int(waits[0]["QueueTime"])  # simulated time passed
    done = hooks(fake_ivr)[-2][1]
    assert done["QueueResult"] == "leave"
    assert done["QueueSid"] == waits[0]["QueueSid"]
    assert int(done["QueueTime"]) >= int(waits[-1]["QueueTime"])
    status = hooks(fake_ivr)[-1][1]
    assert status["CallStatus"] == "completed"
    assert int(status["CallDuration"]) > 20
    assert "Queue result leave." in transcript.heard()
    assert "After the queue." not in transcript.heard()  # the action's TwiML replaced it


def test_speech_input_posts_speech_result(make_leg, fake_ivr):
    transcript = make_leg('say "order status"').run()
    assert transcript.ok
    form = hooks(fake_ivr)[1][1]
    assert form["SpeechResult"] == "order status"
    assert 0.0 <= float(form["Confidence"]) <= 1.0
    assert "Digits" not in form
    assert transcript.heard()[-1] == "Your order has shipped."


def test_timeout_falls_through_to_the_next_verb(make_leg, fake_ivr):
    transcript = make_leg("wait 10").run()
    assert transcript.ok
    assert [p for p, _ in hooks(fake_ivr)] == ["/voice", "/voice/status"]
    assert transcript.heard()[-1] == "We did not get that."


def test_hangup_while_holding_posts_queue_result_hangup(make_leg, fake_ivr):
    transcript = make_leg("press 1; hold 1; hangup").run()
    assert transcript.ok
    done = [form for path, form in hooks(fake_ivr) if path == "/queue-done"]
    assert done[0]["QueueResult"] == "hangup"
    assert "Queue result hangup." not in transcript.heard()  # answer to a hangup is not run


def test_hold_is_bounded(make_leg, fake_ivr):
    transcript = make_leg("press 1", max_hold_loops=3).run()
    assert [p for p, _ in hooks(fake_ivr)].count("/wait") == 3
    assert hooks(fake_ivr)[-2][1]["QueueResult"] == "hangup"
    assert transcript.ok


def test_record_posts_recording_and_ending_key(make_leg, fake_ivr):
    transcript = make_leg('press 2; say "please call me back tomorrow"; press #').run()
    assert transcript.ok
    form = hooks(fake_ivr)[2][1]
    assert hooks(fake_ivr)[2][0] == "/recorded"
    assert re.fullmatch(r"https://api\.twilio\.com/2010-04-01/Accounts/AC\w+/Recordings/RE\w{32}",
                        form["RecordingUrl"])
    assert form["Digits"] == "#"
    assert int(form["RecordingDuration"]) >= 1


@pytest.mark.parametrize(("callee", "status", "duration"), [
    ("answer", "completed", "30"), ("no-answer", "no-answer", "0"), ("busy", "busy", "0")])
def test_dial_posts_dial_call_status(make_leg, fake_ivr, callee, status, duration):
    leg = make_leg("press 3", callees={"+15550001111": callee})
    transcript = leg.run()
    assert transcript.ok
    form = hooks(fake_ivr)[2][1]
    assert (form["DialCallStatus"], form["DialCallDuration"]) == (status, duration)
    assert transcript.heard()[-1] == f"Dial {status}."


def test_wrong_token_is_an_application_error(make_leg):
    transcript = make_leg("press 1", token="not-the-token").run()
    assert not transcript.ok
    assert "answered HTTP 403" in transcript.errors[0].text
    assert "an application error has occurred" in transcript.errors[0].text


@pytest.mark.parametrize(("path", "expected"), [
    ("/broken", "answered HTTP 500"), ("/bad-twiml", "unknown attribute 'numdigits'"),
    ("/loop", "more than 10 HTTP redirects"), ("/missing", "answered HTTP 404"),
])
def test_app_failures_are_application_errors(make_leg, path, expected):
    leg = make_leg("press 1")
    transcript = leg.run(url=leg.base_url + path)
    assert not transcript.ok
    assert expected in transcript.errors[0].text
    if path == "/loop":
        assert sum(e.url.endswith("/loop") for e in transcript.requests()) == 11


def test_inline_twiml_with_a_relative_action_is_an_error(make_leg):
    leg = make_leg("press 1")
    transcript = leg.run(twiml='<Response><Gather action="/menu"/></Response>')
    assert "must be absolute" in transcript.errors[0].text
