"""The Twilio stand-in driven by the real `twilio.rest.Client` (pointed at it with
make_rest_client), placing calls to the fake IVR over HTTP with signed webhooks."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from devkit.twilio_standin.client import make_rest_client, rewrite_url
from devkit.twilio_standin.clock import SimClock
from devkit.twilio_standin.leg import DEV_ACCOUNT_SID
from devkit.twilio_standin.standin import start_server
from devkit.twilio_standin.standin_state import StandInConfig
from tests.sim.conftest import TOKEN


@pytest.fixture
def standin(fake_ivr_url):
    config = StandInConfig(app_url=fake_ivr_url, auth_token=TOKEN, max_hold_loops=400,
                           callees={"+15550002222": "busy"},
                           clock=lambda: SimClock(yield_seconds=0.005))
    server, state, base_url = start_server(config)
    yield state, base_url
    server.shutdown()


@pytest.fixture
def client(standin):
    return make_rest_client(standin[1], DEV_ACCOUNT_SID, TOKEN)


def until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def post_json(url: str, body: dict):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


def test_rewrite_url_keeps_path_and_query():
    assert rewrite_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=2",
                       "http://127.0.0.1:8081") == (
        "http://127.0.0.1:8081/2010-04-01/Accounts/AC1/Calls.json?Page=2")
    assert rewrite_url("https://example.com/x", "http://127.0.0.1:8081") == (
        "https://example.com/x")


def test_create_outbound_call_runs_its_twiml(client, standin, fake_ivr):
    state, _ = standin
    call = client.calls.create(to="+15550003333", from_="+15555550199",
                               url=f"{state.config.app_url}/voice",
                               status_callback=f"{state.config.app_url}/voice/status")
    assert call.sid.startswith("CA")
    assert call.direction == "outbound-api"
    state.join()
    fetched = client.calls(call.sid).fetch()
    assert fetched.status == "completed"
    hooks = fake_ivr.config["HOOKS"]
    assert hooks[0][1]["Direction"] == "outbound-api"
    assert hooks[-1][0] == "/voice/status"
    assert hooks[-1][1]["CallStatus"] == "completed"
    assert state.leg(call.sid).transcript.ok


def test_busy_callee_never_runs_twiml(client, standin, fake_ivr):
    state, _ = standin
    call = client.calls.create(to="+15550002222", from_="+15555550199",
                               twiml="<Response><Say>hi</Say></Response>")
    state.join()
    assert client.calls(call.sid).fetch().status == "busy"
    assert state.leg(call.sid).transcript.heard() == []


def test_update_redirects_a_leg_out_of_the_queue(client, standin, fake_ivr):
    state, base = standin
    sid = post_json(f"{base}/sim/calls", {"from": "+15555550123", "script": "press 1"})["sid"]
    until(lambda: state.leg(sid).queue_name == "support")
    queues = client.queues.list()
    assert [q.friendly_name for q in queues] == ["support"]
    members = client.queues(queues[0].sid).members.list()
    assert [m.call_sid for m in members] == [sid]
    client.calls(sid).update(twiml="<Response><Say>An agent is here.</Say><Hangup/></Response>")
    state.join()
    view = get_json(f"{base}/sim/calls/{sid}")
    assert view["status"] == "completed"
    assert view["ok"], view
    done = [form for path, form in fake_ivr.config["HOOKS"] if path == "/queue-done"]
    assert done[0]["QueueResult"] == "redirected"
    assert done[0]["QueueSid"] == queues[0].sid
    heard = state.leg(sid).transcript.heard()
    assert heard[-1] == "An agent is here."
    assert "Queue result redirected." not in heard
    with pytest.raises(TwilioRestException) as info:
        client.calls(sid).update(url=f"{state.config.app_url}/voice")
    assert info.value.code == 21220


def test_dequeue_front_member_redirects_it(client, standin, fake_ivr):
    state, base = standin
    sid = post_json(f"{base}/sim/calls", {"script": "press 1"})["sid"]
    until(lambda: state.leg(sid).queue_name == "support")
    queue_sid = client.queues.list()[0].sid
    member = client.queues(queue_sid).members("Front").update(
        url=f"{state.config.app_url}/recorded", method="POST")
    assert member.call_sid == sid
    state.join()
    assert client.queues(queue_sid).fetch().current_size == 0
    transcript = state.leg(sid).transcript
    assert transcript.ok, transcript.render()
    assert transcript.heard()[-1] == "Thanks for your message."


def test_status_completed_hangs_up_a_live_call(client, standin):
    state, base = standin
    sid = post_json(f"{base}/sim/calls", {"script": "press 1"})["sid"]
    until(lambda: state.leg(sid).queue_name == "support")
    client.calls(sid).update(status="completed")
    state.join()
    assert get_json(f"{base}/sim/calls")[0]["status"] == "completed"


def test_messages_and_recordings(client, standin):
    state, base = standin
    message = client.messages.create(to="+15555550123", from_="+15555550199", body="Call back?")
    assert message.sid.startswith("SM")
    assert message.status == "queued"
    assert get_json(f"{base}/sim/messages")[0]["body"] == "Call back?"
    sid = post_json(f"{base}/sim/calls", {"script": 'press 2; say "hello there"; press #'})["sid"]
    state.join()
    events = get_json(f"{base}/sim/calls/{sid}")["transcript"]
    recording_url = next(e["url"] for e in events if e["kind"] == "recorded")
    assert recording_url.startswith(base + "/2010-04-01/Accounts/")
    for url in (recording_url, recording_url + ".wav",
                f"{base}/sim/recordings/{recording_url.rsplit('/', 1)[1]}.wav"):
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.read(4) == b"RIFF"


def test_rest_api_requires_the_auth_token(standin):
    _, base = standin
    bad = make_rest_client(base, DEV_ACCOUNT_SID, "wrong-token")
    with pytest.raises(TwilioRestException) as info:
        bad.calls("CA" + "0" * 32).fetch()
    assert info.value.status == 401
    with pytest.raises(TwilioException, match="401"):
        bad.calls.list()
