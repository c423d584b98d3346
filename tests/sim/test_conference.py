"""Conferences on the stand-in, driven as the product drives them: a caller's TwiML puts it
in a room, an agent leg created with the real `twilio.rest.Client` joins it, and the REST
Conference and Participant resources hold, mute, remove and end. Every webhook is a real
signed HTTP request to a small app (tests/sim/conference_app.py); every TwiML document is
validated."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from devkit.twilio_standin.leg import DEV_ACCOUNT_SID
from tests.sim.conference_app import ROOM, posted
from tests.sim.conftest import TOKEN
from tests.sim.test_standin import post_json, until


def caller_waiting(standin, client):
    """An inbound caller sits alone in the room; returns (caller sid, conference sid)."""
    state, base = standin
    sid = post_json(f"{base}/sim/calls", {"from": "+15555550123"})["sid"]
    rooms = until(lambda: client.conferences.list(friendly_name=ROOM, status="init"))
    return sid, rooms[0].sid


def agent_joins(standin, client, room_sid: str, to: str = "+15550007777", **create) -> str:
    state, _ = standin
    app_url = state.config.app_url
    call = client.calls.create(to=to, from_="+15555550199", url=f"{app_url}/agent",
                               status_callback=f"{app_url}/leg-status", **create)
    until(lambda: len(client.conferences(room_sid).participants.list()) == 2)
    return call.sid


def events(app) -> list[tuple[str, str | None]]:
    return [(f["StatusCallbackEvent"], f.get("ParticipantLabel"))
            for f in posted(app, "/conf-events")]


def test_caller_waits_with_music_until_the_agent_joins(standin, client, app):
    state, _ = standin
    caller, room_sid = caller_waiting(standin, client)
    room = client.conferences(room_sid).fetch()
    assert (room.friendly_name, room.status) == (ROOM, "init")
    assert client.conferences.list(friendly_name=ROOM, status="in-progress") == []
    until(lambda: len(posted(app, "/conf-wait")) >= 2)  # the waitUrl loops
    parts = client.conferences(room_sid).participants.list()
    assert [(p.call_sid, p.label, p.start_conference_on_enter, p.end_conference_on_exit)
            for p in parts] == [(caller, "caller", False, True)]
    agent = agent_joins(standin, client, room_sid,
                        status_callback_event=["initiated", "ringing", "answered", "completed"])
    assert client.conferences(room_sid).fetch().status == "in-progress"
    assert [r.sid for r in client.conferences.list(status="in-progress")] == [room_sid]
    transcript = state.leg(caller).transcript
    until(lambda: transcript.of_kind("talking"))
    lines = [e.text for e in transcript.of_kind("conference", "waiting", "talking")]
    assert lines[0] == f"joined conference {ROOM} ({room_sid}) as caller"
    assert lines[1].startswith("waiting for the conference to start: hears wait music ")
    assert lines[1].endswith("/conf-wait")
    assert lines[2] == "in the conference, talking"
    assert any(h.endswith("/audio/wait.wav") for h in transcript.heard())
    client.calls(caller).update(status="completed")  # the caller hangs up
    state.join()
    # endConferenceOnExit: the room ends, the agent's Dial action runs (it answers nothing)
    left = posted(app, "/left")
    assert [(f["DialCallStatus"], f["ConferenceSid"], f["CallSid"]) for f in left] == [
        ("completed", room_sid, agent)]
    assert posted(app, "/dialed") == []  # a hung-up caller runs no action
    assert events(app) == [("participant-join", "caller"), ("participant-join", "agent"),
                           ("conference-start", None), ("participant-leave", "caller"),
                           ("participant-leave", "agent"), ("conference-end", None)]
    forms = posted(app, "/conf-events")
    assert [int(f["SequenceNumber"]) for f in forms] == [1, 2, 3, 4, 5, 6]
    assert {f["ConferenceSid"] for f in forms} == {room_sid}
    assert {f["FriendlyName"] for f in forms} == {ROOM}
    assert {f["AccountSid"] for f in forms} == {DEV_ACCOUNT_SID}
    assert (forms[0]["CallSid"], forms[0]["Muted"]) == (caller, "false")
    assert forms[-1]["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert forms[-1]["CallSidEndingConference"] == caller
    progress = [(f["CallStatus"], f.get("SequenceNumber")) for f in posted(app, "/leg-status")]
    assert progress == [("initiated", "0"), ("ringing", "1"), ("in-progress", "2"),
                        ("completed", "3")]
    assert client.conferences(room_sid).fetch().status == "completed"
    for leg in (state.leg(caller), state.leg(agent)):
        assert leg.transcript.ok, leg.transcript.render()


def test_hold_mute_and_ending_the_room_through_the_rest_api(standin, client, app):
    state, _ = standin
    caller, room_sid = caller_waiting(standin, client)
    agent = agent_joins(standin, client, room_sid)
    hold_url = f"{state.config.app_url}/hold"
    held = client.conferences(room_sid).participants(caller).update(hold=True,
                                                                    hold_url=hold_url)
    assert held.hold is True
    transcript = state.leg(caller).transcript
    until(lambda: any(h.endswith("/audio/hold.wav") for h in transcript.heard()))
    assert posted(app, "/hold")[0]["CallSid"] == caller  # HoldMethod defaults to GET
    client.conferences(room_sid).participants(caller).update(hold=False)
    client.conferences(room_sid).participants(agent).update(muted=True)
    parts = {p.call_sid: p for p in client.conferences(room_sid).participants.list()}
    assert (parts[caller].hold, parts[agent].muted) == (False, True)
    until(lambda: len(events(app)) >= 6)
    client.conferences(room_sid).update(status="completed")
    state.join()
    assert events(app) == [
        ("participant-join", "caller"), ("participant-join", "agent"),
        ("conference-start", None), ("participant-hold", "caller"),
        ("participant-unhold", "caller"), ("participant-mute", "agent"),
        ("participant-leave", "caller"), ("participant-leave", "agent"),
        ("conference-end", None)]
    hold_event = posted(app, "/conf-events")[3]
    assert (hold_event["Hold"], hold_event["CallSid"]) == ("true", caller)
    assert posted(app, "/conf-events")[-1]["ReasonConferenceEnded"] == "conference-ended-via-api"
    lines = [e.text for e in transcript.events if e.who == "twilio"
             and e.kind in ("hold", "held", "talking", "conference")]
    assert lines[-6:] == ["put on hold", f"on hold: hears hold music {hold_url}",
                          "taken off hold", "in the conference, talking",
                          f"conference {ROOM} ended (conference-ended-via-api)",
                          lines[-1]]
    assert lines[-1].startswith(f"left conference {ROOM} after ")
    agent_lines = [e.text for e in state.leg(agent).transcript.of_kind("mute")]
    assert agent_lines == ["muted in the conference"]
    # both legs go on with their Dial actions: the caller hears the goodbye
    assert posted(app, "/dialed")[0]["DialCallStatus"] == "completed"
    assert transcript.heard()[-1] == "Thanks for calling."
    assert len(posted(app, "/left")) == 1
    for leg in (state.leg(caller), state.leg(agent)):
        assert leg.transcript.ok, leg.transcript.render()


def test_removing_and_redirecting_participants(standin, client, app):
    state, _ = standin
    caller, room_sid = caller_waiting(standin, client)
    agent = agent_joins(standin, client, room_sid)
    client.conferences(room_sid).participants(agent).delete()
    until(lambda: state.leg(agent).ended)
    assert posted(app, "/left")[0]["DialCallStatus"] == "completed"
    assert [p.call_sid for p in client.conferences(room_sid).participants.list()] == [caller]
    assert client.conferences(room_sid).fetch().status == "in-progress"
    # a redirect takes the caller out of the Dial without its action, as on Twilio
    client.calls(caller).update(twiml="<Response><Say>Back in line.</Say></Response>")
    state.join()
    assert posted(app, "/dialed") == []
    assert state.leg(caller).transcript.heard()[-1] == "Back in line."
    room = client.conferences(room_sid).fetch()
    assert (room.status, room.reason_conference_ended) == (
        "completed", "participant-with-end-conference-on-exit-left")
    assert client.conferences(room_sid).participants.list() == []
    # a new caller opens a new room with the same name
    second, new_sid = caller_waiting(standin, client)
    assert new_sid != room_sid
    assert [r.status for r in client.conferences.list(friendly_name=ROOM)] == ["init",
                                                                                "completed"]
    # a soak forgets ended calls: ended rooms go too, the live one stays
    state.forget([caller, agent])
    assert [r.sid for r in client.conferences.list()] == [new_sid]
    assert second in [p.call_sid for p in client.conferences(new_sid).participants.list()]


def test_rest_errors_are_twilios(standin, client):
    caller, room_sid = caller_waiting(standin, client)
    with pytest.raises(TwilioRestException) as info:
        client.conferences("CF" + "0" * 32).fetch()
    assert (info.value.status, info.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as info:
        client.conferences(room_sid).participants("CA" + "0" * 32).update(muted=True)
    assert info.value.status == 404
    with pytest.raises(TwilioRestException) as info:
        client.conferences(room_sid).participants(caller).update(hold=True, hold_url="/hold")
    assert (info.value.status, info.value.code) == (400, 21205)
    assert client.conferences(room_sid).participants("caller").fetch().call_sid == caller


def test_late_news_of_a_room_does_not_disturb_a_leg_elsewhere(fake_ivr):
    """A Nudge (a room's change) reaching a leg that has left the room is dropped: the leg
    goes on with its menu instead of ending."""
    from devkit.twilio_standin.leg import CallLeg
    from devkit.twilio_standin.leg_steps import Nudge
    from devkit.twilio_standin.script import Script
    from devkit.twilio_standin.transport import FlaskTransport

    leg = CallLeg("http://127.0.0.1:5000", FlaskTransport(fake_ivr),
                  Script.parse('say "order status"'), auth_token=TOKEN)
    leg.interrupt(Nudge())
    transcript = leg.run()
    assert transcript.heard()[-1] == "Your order has shipped.", transcript.render()
    assert transcript.ok
