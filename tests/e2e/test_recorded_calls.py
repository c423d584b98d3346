"""A recorded agent call end to end (issue 14 item 4): the caller of a recording queue hears the
notice before the conference, the agent's leg is recorded dual channel from the moment they
join (a routing-queue job asks the stand-in's REST API), the console pauses and resumes it and
the floor state shows it, the completed recording is filed with its link and played to a
supervisor, never to an agent. Every TwiML document is validated by the stand-in."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from devkit.twilio_standin.leg_steps import RemoteHangup
from ivr.domain.queueing import RecordingSettings
from queue_worker.outcomes import drain_events
from tests import signin
from tests.e2e.conftest import Live
from tests.e2e.test_floor_calls import console, floor_of, routed_call, slow_rings
from tests.e2e.test_queue_calls import events
from tests.privacy.conftest import outcome_db

__all__ = ["slow_rings"]  # autouse, as in test_floor_calls: a ring the test answers must not
# ring out (a queue's default 20 s is 0.7 s of real time at the stand-in's speed; CI saw
# alice's ring end "no-answer" before the test's poll found it ringing)


def actions(live: Live, call: str) -> list[str]:
    return [d["action"] for k, d in events(live, call) if k == "recording"]


def test_a_recording_queue_tells_the_caller_records_the_agent_and_pauses_for_card_numbers(
        live: Live, tmp_path: Path):
    live.configure_queue("support", recording=RecordingSettings("on"))
    caller = routed_call(live)
    call = caller.call_sid
    live.run_until(lambda: actions(live, call) == ["started"])
    heard = " | ".join(caller.transcript.heard())
    assert "This call may be recorded for quality and training." in heard
    assert heard.index("This call may be recorded") < heard.index("An agent is about to")
    live.run_until(lambda: floor_of(live, call).recording == "on")
    alice = console(live, "alice")
    paused = alice("/agent/call/record/pause", {"call": call})
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json()["floor"]["recording"] == "paused"
    context = signin.signed_in(live.app, "alice").get("/agent/context.json").get_json()
    assert context["floor"]["recording"] == "paused"
    resumed = alice("/agent/call/record/resume", {"call": call})
    assert resumed.get_json()["floor"]["recording"] == "on"

    caller.interrupt(RemoteHangup("the caller hung up", own=True))
    live.run_until(lambda: caller.completed)
    live.run_until(lambda: actions(live, call) == ["started", "paused", "resumed",
                                                   "completed"])
    (rec,) = [r for leg in live.standin.all_legs()
              for r in live.standin.call_recordings.of_call(leg.call_sid)]
    assert rec.call_sid != call
    assert rec.channels == 2
    assert caller.transcript.ok, caller.transcript.render()
    (done,) = [d for k, d in events(live, call) if k == "recording" and d["action"] ==
               "completed"]
    assert done["channels"] == 2
    assert done["url"].startswith(live.app.config["IVR"].twilio_api_base)
    assert floor_of(live, call) is None or floor_of(live, call).recording == "off"

    engine, factory = outcome_db(tmp_path)
    drain_events(live.redis, factory)
    signin.add_users(live.app.config["IVR"].instance_dir, sue="supervisor")
    path = f"/recordings/{done['recording']}"
    assert signin.signed_in(live.app, "alice").get(path).status_code == 403
    played = signin.signed_in(live.app, "sue").get(path)
    assert played.status_code == 200
    with wave.open(io.BytesIO(played.data)) as audio:
        assert audio.getnchannels() == 2
    engine.dispose()


def test_a_queue_that_does_not_record_says_nothing_and_records_nothing(live: Live):
    caller = routed_call(live)
    call = caller.call_sid
    caller.interrupt(RemoteHangup("the caller hung up", own=True))
    live.run_until(lambda: caller.completed)
    assert "recorded" not in " | ".join(caller.transcript.heard())
    assert actions(live, call) == []
    recorded = [r for leg in live.standin.all_legs()
                for r in live.standin.call_recordings.of_call(leg.call_sid)]
    assert recorded == []                                 # no leg was recorded at Twilio
