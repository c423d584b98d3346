"""The console's recording buttons (issue 14 item 4): `POST /agent/call/record/pause` and
`/resume` with JSON {"call": CA}, through the Twilio stand-in's REST API (the real twilio
client code): agents only for calls put through to them, supervisors for any, 409 when
nothing is recording or it is already so, 502 when Twilio refuses."""

from __future__ import annotations

import io
import json
import time
import uuid
import wave
from pathlib import Path

import pytest
import requests
from rq import SimpleWorker

from ivr.domain.queueing import RecordingSettings
from ivr.store import keys
from ivr.store.jobs import TRANSCRIPTION_QUEUE
from tests.e2e.conftest import Live
from tests.e2e.conftest import live as live  # noqa: PLC0414 - the e2e call centre, shared
from tests.signin import add_users, login_token, signed_in

PAUSE, RESUME = "/agent/call/record/pause", "/agent/call/record/resume"


@pytest.fixture
def people(live: Live, tmp_path: Path) -> dict:
    add_users(tmp_path, alice="agent", bob="agent", sue="supervisor")
    out = {}
    for name in ("alice", "bob", "sue"):
        client = signed_in(live.app, name)
        out[name] = (client, {"X-CSRF-Token": login_token(client)})
    return out


def press(people: dict, who: str, path: str, call: str):
    client, headers = people[who]
    return client.post(path, json={"call": call}, headers=headers)


def waiting_caller(live: Live, agent: str = "alice") -> str:
    """A caller the queue put through to `agent` (as the bridge marks the call)."""
    leg = live.call("hold 200")
    live.run_until(lambda: live.app.extensions["ivr"].handoff.visit(leg.call_sid) is not None)
    live.app.extensions["ivr"].handoff.store.mark(leg.call_sid, agent=agent)
    return leg.call_sid


def test_nothing_recording_is_409_and_other_agents_calls_are_403(live: Live, people: dict):
    call = waiting_caller(live)
    assert press(people, "alice", PAUSE, call).status_code == 409
    assert "not being recorded" in press(people, "alice", PAUSE, call).get_json()["error"]
    assert press(people, "sue", RESUME, call).status_code == 409      # supervisors: any call
    refused = press(people, "bob", PAUSE, call)
    assert refused.status_code == 403
    assert "not put through to you" in refused.get_json()["error"]
    client, headers = people["alice"]
    assert client.post(PAUSE, json={}, headers=headers).status_code == 400
    assert client.post(PAUSE, json={"call": call}).status_code == 403     # no CSRF token
    assert live.app.test_client().post(PAUSE, json={"call": call}, headers={
        "Accept": "application/json"}).status_code == 401
    assert client.post("/agent/call/record/stop", json={"call": call},
                       headers=headers).status_code == 404


def test_twilio_refusing_is_502_and_changes_nothing(live: Live, people: dict):
    call = waiting_caller(live)
    recorder = live.app.extensions["ivr"].floor_recording
    gone = "CA" + uuid.uuid4().hex                       # a leg the stand-in does not know
    recorder.store.begin(call, gone, "support")
    recorder.store.settle(call, gone, "RE" + uuid.uuid4().hex, "in-progress")
    answer = press(people, "alice", PAUSE, call)
    assert answer.status_code == 502
    assert "Twilio did not pause the recording" in answer.get_json()["error"]
    assert recorder.state(call).status == "in-progress"


def test_a_leg_gone_before_the_job_ran_is_not_waited_for(live: Live, people: dict):
    live.configure_queue("support", recording=RecordingSettings("on"))
    call = waiting_caller(live)
    recorder = live.app.extensions["ivr"].floor_recording
    gone = "CA" + uuid.uuid4().hex                         # hung up before the job asked
    assert recorder.start(call, gone) is True
    assert press(people, "alice", PAUSE, call).status_code == 409   # not started yet
    live.work()
    assert recorder.state(call).status == "completed"
    answer = press(people, "alice", PAUSE, call)
    assert (answer.status_code, answer.get_json()["error"]) == (
        409, f"call {call} is not being recorded")


def test_pause_and_resume_through_the_standin(live: Live, people: dict):
    live.configure_queue("support", recording=RecordingSettings("on", transcribe=True))
    call = waiting_caller(live)
    agent_leg = live.call("hold 200")                   # the agent's live leg at Twilio
    recorder = live.app.extensions["ivr"].floor_recording
    assert recorder.start(call, agent_leg.call_sid) is True
    live.run_until(lambda: recorder.state(call).recording != "")
    live.run_until(lambda: _actions(live, call) == ["started"])
    paused = press(people, "alice", PAUSE, call)
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json() == {"ok": True, "call": call, "recording": "paused",
                                 "floor": None}            # no conference in this test
    assert press(people, "alice", PAUSE, call).status_code == 409     # already paused
    assert at_twilio(live, agent_leg, recorder.state(call).recording) == "paused"
    resumed = press(people, "sue", RESUME, call)
    assert resumed.get_json()["recording"] == "on"
    assert press(people, "alice", RESUME, call).status_code == 409    # not paused
    assert at_twilio(live, agent_leg, recorder.state(call).recording) == "in-progress"
    live.standin.hang_up([agent_leg])
    live.run_until(lambda: _actions(live, call) == ["started", "paused", "resumed",
                                                    "completed"])
    assert recorder.state(call).console_state == "off"
    completed = _events(live, call)[-1]
    assert completed["channels"] == 2
    assert completed["url"].startswith(live.standin.config.api_base + "/2010-04-01/Accounts/")
    wav = requests.get(completed["url"] + ".wav", timeout=5)
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert audio.getnchannels() == 2                            # dual channel
    SimpleWorker([TRANSCRIPTION_QUEUE], connection=live.redis).work(burst=True)
    (transcript,) = [json.loads(f[b"data"]) for _, f in live.redis.xrange(keys.events_stream())
                     if f[b"call"].decode() == call
                     and f[b"kind"] == b"recording_transcript_ready"]
    assert transcript["recording"] == completed["recording"]      # the dual WAV, mixed down
    assert transcript["text"] == ""                               # silence


def at_twilio(live: Live, leg, recording: str) -> str:
    """The recording's status as the stand-in keeps it."""
    return live.standin.call_recordings.find(leg.call_sid, recording).status


def _events(live: Live, call: str) -> list[dict]:
    return [json.loads(f[b"data"]) for _, f in live.redis.xrange(keys.events_stream())
            if f[b"call"].decode() == call and f[b"kind"] == b"recording"]


def _actions(live: Live, call: str) -> list[str]:
    time.sleep(0.05)
    return [e["action"] for e in _events(live, call)]
