"""The stand-in's supervisor and recording parts: coaching (only the coached agent hears the
supervisor), announcements, dual-channel call recordings with pause and resume through the real
twilio Client, and a device's outgoing call through the TwiML App."""

from __future__ import annotations

import io
import urllib.request
import wave

from tests.sim.conference_app import posted
from tests.sim.test_conference import agent_joins, caller_waiting
from tests.sim.test_standin import get_json, post_json, until


def texts(leg, kind: str) -> list[str]:
    return [e.text for e in leg.transcript.of_kind(kind)]


def test_a_whispering_supervisor_coaches_only_the_agent(standin, client, app):
    state, _ = standin
    app_url = state.config.app_url
    caller, room_sid = caller_waiting(standin, client)
    agent = agent_joins(standin, client, room_sid)
    sup = client.calls.create(to="+15550008888", from_="+15555550199",
                              url=f"{app_url}/monitor?coach={agent}").sid
    until(lambda: len(client.conferences(room_sid).participants.list()) == 3)
    monitor = client.conferences(room_sid).participants(sup).fetch()
    assert (monitor.coaching, monitor.call_sid_to_coach, monitor.label) == (True, agent,
                                                                            "monitor")
    assert texts(state.leg(sup), "coach") == [
        f"coaching {agent}: only that participant hears this leg"]
    assert texts(state.leg(agent), "coach") == [f"hears coach {sup} (the others do not)"]
    assert texts(state.leg(caller), "coach") == []
    # barge: coaching off, a full participant; then listen: muted
    client.conferences(room_sid).participants(sup).update(coaching=False)
    client.conferences(room_sid).participants(sup).update(muted=True)
    parts = {p.call_sid: p for p in client.conferences(room_sid).participants.list()}
    assert (parts[sup].coaching, parts[sup].muted) == (False, True)
    assert texts(state.leg(sup), "coach")[-1] == "not coaching: a full participant"
    assert texts(state.leg(sup), "mute") == ["muted in the conference"]
    # an announcement to the room, then one to the caller alone
    client.conferences(room_sid).update(announce_url=f"{app_url}/announce")
    for sid in (caller, agent, sup):
        until(lambda sid=sid: "This call may be recorded." in state.leg(sid).transcript.heard())
    client.conferences(room_sid).participants(caller).update(announce_url=f"{app_url}/announce")
    until(lambda: state.leg(caller).transcript.heard().count("This call may be recorded.") == 2)
    client.conferences(room_sid).update(status="completed")
    state.join()
    assert state.leg(agent).transcript.heard().count("This call may be recorded.") == 1
    assert len(posted(app, "/announce")) == 4  # fetched for each leg that hears it
    for sid in (caller, agent, sup):
        assert state.leg(sid).transcript.ok, state.leg(sid).transcript.render()


def test_dual_recording_paused_resumed_and_stopped(standin, client, app):
    state, base = standin
    app_url = state.config.app_url
    caller, room_sid = caller_waiting(standin, client)
    agent = agent_joins(standin, client, room_sid)
    leg = state.leg(agent)
    rec = client.calls(agent).recordings.create(
        recording_channels="dual", recording_status_callback=f"{app_url}/rec-status",
        recording_status_callback_event=["in-progress", "completed", "absent"])
    assert (rec.sid[:2], rec.status, rec.channels, rec.call_sid) == ("RE", "in-progress", 2,
                                                                     agent)
    started = leg.clock.now()
    until(lambda: leg.clock.now() > started + 30)
    paused = client.calls(agent).recordings("Twilio.CURRENT").update(status="paused")
    assert paused.status == "paused"
    before = leg.clock.now()
    until(lambda: leg.clock.now() > before + 1000)  # a long pause: left out of the audio
    client.calls(agent).recordings(rec.sid).update(status="in-progress")
    client.calls(agent).recordings("Twilio.CURRENT").update(status="stopped")
    state.callbacks.drain()
    forms = posted(app, "/rec-status")
    assert [f["RecordingStatus"] for f in forms] == ["in-progress", "completed"]
    done = forms[-1]
    assert (done["RecordingSid"], done["CallSid"], done["RecordingChannels"]) == (
        rec.sid, agent, "2")
    assert 30 <= int(done["RecordingDuration"]) < 1000
    assert done["RecordingUrl"] == f"{base}/2010-04-01/Accounts/{done['AccountSid']}" \
                                   f"/Recordings/{rec.sid}"
    with urllib.request.urlopen(done["RecordingUrl"] + ".wav", timeout=5) as resp:
        audio = wave.open(io.BytesIO(resp.read()))
    assert audio.getnchannels() == 2
    assert [r.status for r in client.calls(agent).recordings.list()] == ["completed"]
    notes = texts(leg, "recording")
    assert notes[:3] == [f"recording {rec.sid} started (dual)", f"recording {rec.sid} paused",
                         f"recording {rec.sid} resumed"]
    assert "stopped through the REST API" in notes[3]
    # a second recording runs until the call ends
    second = client.calls(agent).recordings.create(
        recording_status_callback=f"{app_url}/rec-status",
        recording_status_callback_event=["completed", "absent"])
    client.calls(caller).update(status="completed")
    state.join()
    last = posted(app, "/rec-status")[-1]
    assert (last["RecordingSid"], last["RecordingChannels"]) == (second.sid, "1")
    assert last["RecordingStatus"] in ("completed", "absent")
    assert leg.transcript.ok, leg.transcript.render()


def test_a_device_calls_out_through_the_twiml_app(standin, app):
    state, base = standin
    sid = post_json(f"{base}/sim/clients/alice/dial",
                    {"to": "+15550001234", "params": {"CustomerId": "42"}})["sid"]
    calls = until(lambda: get_json(f"{base}/sim/clients/alice/calls"))
    assert (calls[0]["sid"], calls[0]["from"], calls[0]["to"]) == (sid, "client:alice",
                                                                   "+15550001234")
    hook = until(lambda: posted(app, "/voice/client"))[0]
    assert (hook["From"], hook["To"], hook["Direction"]) == ("client:alice", "+15550001234",
                                                             "inbound")
    assert hook["ApplicationSid"] == state.config.twiml_app_sid
    assert hook["CustomerId"] == "42"
    until(lambda: texts(state.leg(sid), "waiting"))
    post_json(f"{base}/sim/clients/alice/calls/{sid}/hangup", {})
    state.join()
    transcript = state.leg(sid).transcript
    assert transcript.heard()[0] == "Calling +15550001234 for 42."
    assert posted(app, "/left")[0]["CallSid"] == sid
    assert posted(app, "/voice/status") == []  # no StatusCallback on the TwiML App
    assert transcript.ok, transcript.render()
