"""Client legs: Calls.json to `client:NAME` rings that identity's simulated device, driven
over the stand-in's simulator API (register, accept, reject, hang up, digits, mute) or by its
auto mode, with the progress status callbacks Twilio sends."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.sim.conference_app import posted
from tests.sim.test_conference import caller_waiting
from tests.sim.test_standin import get_json, post_json, until

EVENTS = ["initiated", "ringing", "answered", "completed"]


def delete(url: str):
    req = urllib.request.Request(url, method="DELETE")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


def ring(standin, client, identity: str, **create) -> str:
    state, _ = standin
    app_url = state.config.app_url
    return client.calls.create(to=f"client:{identity}", from_="+15555550123",
                               url=f"{app_url}/agent", status_callback=f"{app_url}/leg-status",
                               status_callback_event=EVENTS, **create).sid


def statuses(app) -> list[str]:
    return [f["CallStatus"] for f in posted(app, "/leg-status")]


def test_a_manual_device_accepts_then_hangs_up(standin, client, app):
    state, base = standin
    caller, room_sid = caller_waiting(standin, client)
    post_json(f"{base}/sim/clients/alice/register", {"mode": "manual"})
    assert get_json(f"{base}/sim/clients/alice") == {"identity": "alice", "registered": True,
                                                     "mode": "manual"}
    sid = ring(standin, client, "alice")
    calls = until(lambda: get_json(f"{base}/sim/clients/alice/calls"))
    assert [(c["sid"], c["from"], c["to"], c["status"], c["ringing"]) for c in calls] == [
        (sid, "+15555550123", "client:alice", "ringing", True)]
    assert client.calls(sid).fetch().status == "ringing"
    assert posted(app, "/agent") == []  # nothing runs before the device accepts
    post_json(f"{base}/sim/clients/alice/calls/{sid}/accept", {})
    until(lambda: len(client.conferences(room_sid).participants.list()) == 2)
    agent_hook = posted(app, "/agent")[0]
    assert (agent_hook["To"], agent_hook["CallStatus"]) == ("client:alice", "in-progress")
    assert "ToCountry" not in agent_hook  # no geography for a client
    post_json(f"{base}/sim/clients/alice/calls/{sid}/digits", {"digits": "12#"})
    post_json(f"{base}/sim/clients/alice/calls/{sid}/mute", {"muted": True})
    with pytest.raises(urllib.error.HTTPError) as info:
        post_json(f"{base}/sim/clients/alice/calls/{sid}/accept", {})
    assert info.value.code == 409
    transcript = state.leg(sid).transcript
    until(lambda: any("12#" in e.text for e in transcript.of_kind("press")))
    post_json(f"{base}/sim/clients/alice/calls/{sid}/hangup", {})
    until(lambda: state.leg(sid).ended)
    assert get_json(f"{base}/sim/clients/alice/calls") == []
    # the agent's own hang-up: its Dial action is requested, the caller stays in the room
    assert posted(app, "/left")[0]["CallStatus"] == "completed"
    assert statuses(app) == ["initiated", "ringing", "in-progress", "completed"]
    assert [p.call_sid for p in client.conferences(room_sid).participants.list()] == [caller]
    texts = [e.text for e in transcript.events]
    assert "the device mutes its microphone" in texts
    assert "12# (DTMF into the conference)" in texts
    assert transcript.ok, transcript.render()


@pytest.mark.parametrize(("how", "status"), [("reject", "busy"), ("cancel", "canceled"),
                                             ("timeout", "no-answer"),
                                             ("offline", "no-answer")])
def test_a_call_the_device_does_not_take(standin, client, app, how, status):
    state, base = standin
    post_json(f"{base}/sim/clients/bob/register", {"mode": "manual"})
    if how == "offline":
        assert delete(f"{base}/sim/clients/bob") == {"identity": "bob", "registered": False}
    sid = ring(standin, client, "bob", timeout=1 if how in ("timeout", "offline") else 60)
    if how == "reject":
        until(lambda: get_json(f"{base}/sim/clients/bob/calls"))
        post_json(f"{base}/sim/clients/bob/calls/{sid}/reject", {})
    elif how == "cancel":
        until(lambda: get_json(f"{base}/sim/clients/bob/calls"))
        client.calls(sid).update(status="canceled")
    until(lambda: state.leg(sid).ended, timeout=10)
    assert client.calls(sid).fetch().status == status
    assert posted(app, "/agent") == []
    assert statuses(app) == ["initiated", "ringing", status]
    assert get_json(f"{base}/sim/clients/bob/calls") == []


def test_an_auto_device_answers_and_hangs_up_after_talking(standin, client, app):
    state, base = standin
    state.config.talk_seconds = 40
    caller, room_sid = caller_waiting(standin, client)
    post_json(f"{base}/sim/clients/carol/register", {"mode": "auto"})
    sid = ring(standin, client, "carol")
    until(lambda: state.leg(sid).ended)
    transcript = state.leg(sid).transcript
    assert [e.text for e in transcript.of_kind("hangup")][0] == "hangs up after talking 40s"
    assert statuses(app) == ["initiated", "ringing", "in-progress", "completed"]
    assert [e["StatusCallbackEvent"] for e in posted(app, "/conf-events")][:3] == [
        "participant-join", "participant-join", "conference-start"]
    assert client.conferences(room_sid).fetch().status == "in-progress"  # the caller stays
    assert transcript.ok, transcript.render()


def test_unknown_actions_and_modes_are_refused(standin):
    _, base = standin
    with pytest.raises(urllib.error.HTTPError) as info:
        post_json(f"{base}/sim/clients/dan/register", {"mode": "sometimes"})
    assert info.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as info:
        post_json(f"{base}/sim/clients/dan/calls/CA123/accept", {})
    assert info.value.code == 404
