"""The number's VoiceFallbackUrl (`/voice/fallback`): a webhook whose web process died mid-request
is replayed there, so the caller goes on where they were instead of hearing "an application
error has occurred"; a failure the replay cannot fix gets the fallback route to a human."""

from __future__ import annotations

from flask import Flask

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport, TransportError, WebResponse
from tests.twiml_validate import twiml_problems
from tests.web.conftest import BASE, sign, standard_params


class Dies:
    """A transport whose first `times` requests to `path` die like a killed web process: after
    the app handled the first (`handled=True`, the answer was stored) or before it
    (`handled=False`). Twice by default: Twilio tries once more when a connection fails."""

    def __init__(self, app: Flask, path: str, handled: bool, times: int = 2) -> None:
        self.inner = FlaskTransport(app)
        self.path, self.handled, self.died, self.times = path, handled, 0, times

    def request(self, method: str, url: str, form=None, headers=None) -> WebResponse:
        if self.died < self.times and url.split("?")[0].endswith(self.path):
            self.died += 1
            if self.handled and self.died == 1:
                self.inner.request(method, url, form, headers)
            raise TransportError(f"{method} {url}: connection reset by peer")
        return self.inner.request(method, url, form, headers)


def play(app: Flask, transport, script: str, fallback: bool) -> CallLeg:
    options = LegOptions(validate=twiml_problems, check_audio=False, max_hold_loops=1,
                         fallback_url=BASE + "/voice/fallback" if fallback else None)
    leg = CallLeg(BASE, transport, Script.parse(script), auth_token="test-auth-token",
                  to="+14155550100", options=options)
    leg.run()
    return leg


def heard(leg: CallLeg) -> list[str]:
    return leg.transcript.heard()


def test_a_webhook_lost_with_its_web_process_is_replayed_and_the_call_goes_on(app: Flask):
    reference = play(app, FlaskTransport(app), "press 1; press 9; hangup", fallback=False)
    assert reference.transcript.ok, reference.transcript.render()
    for handled in (False, True):
        transport = Dies(app, "/voice/next", handled)
        leg = play(app, transport, "press 1; press 9; hangup", fallback=True)
        assert transport.died == 2
        assert leg.transcript.ok, leg.transcript.render()
        assert leg.transcript.of_kind("failover"), leg.transcript.render()
        assert "something went wrong on our side" not in " ".join(heard(leg))
        assert heard(leg) == heard(reference)  # the same call, as if nothing had happened


def test_one_lost_connection_is_tried_again_as_twilio_does(app: Flask):
    reference = play(app, FlaskTransport(app), "press 1; press 9; hangup", fallback=False)
    for handled in (False, True):
        transport = Dies(app, "/voice/next", handled, times=1)
        leg = play(app, transport, "press 1; press 9; hangup", fallback=False)
        assert transport.died == 1
        assert leg.transcript.ok, leg.transcript.render()
        assert leg.transcript.of_kind("retry"), leg.transcript.render()
        assert heard(leg) == heard(reference)  # a stored answer is given again, not redone


def test_without_a_fallback_url_the_same_failure_ends_the_call(app: Flask):
    leg = play(app, Dies(app, "/voice/next", False), "press 1; hangup", fallback=False)
    assert not leg.transcript.ok
    assert "connection reset" in leg.transcript.errors[0].text


def test_the_fallback_gives_the_fallback_route_when_the_failed_url_is_not_ours(post, call_sid):
    params = standard_params(call_sid, ErrorCode="11200", ErrorUrl="https://elsewhere.test/x")
    answer = post("/voice/fallback", params)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert not twiml_problems(answer.get_data(), "document")
    assert "something went wrong on our side" in body
    assert "<Enqueue" in body


def test_the_fallback_never_replays_itself_and_checks_its_signature(post, client, call_sid):
    loop = standard_params(call_sid, ErrorCode="11200", ErrorUrl=BASE + "/voice/fallback")
    assert "something went wrong" in post("/voice/fallback", loop).get_data(as_text=True)
    forged = standard_params(call_sid, ErrorCode="11200", ErrorUrl=BASE + "/voice")
    headers = {"X-Twilio-Signature": sign(BASE + "/voice", forged)}  # signed for another URL
    assert client.post("/voice/fallback", data=forged, headers=headers).status_code == 403


def test_a_hold_loop_webhook_that_failed_is_answered_with_hold_twiml(post, call_sid):
    """Inside Twilio's waitUrl <Enqueue> and <Dial> are not allowed: the fallback's answer to a
    failed hold-loop webhook must be one the hold loop can play."""
    params = standard_params(call_sid, ErrorCode="11200", QueuePosition="1", QueueTime="5",
                             ErrorUrl=BASE + "/voice/queue/wait?queue=support")
    answer = post("/voice/fallback", params)
    assert answer.status_code == 200
    assert not twiml_problems(answer.get_data(), "wait"), answer.get_data(as_text=True)
    assert "<Enqueue" not in answer.get_data(as_text=True)
