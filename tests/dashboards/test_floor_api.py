"""The console's call controls (docs/agent-floor.md): who may act on which call, the moves
refused with their reason (409) before anything reaches Twilio, the toll-fraud policy on
dialled numbers, and 502 when Twilio cannot be reached. The moves that reach Twilio are
played end to end through the stand-in (tests/e2e/test_floor_calls.py)."""

from __future__ import annotations

import socket

import pytest
from flask import Flask

from ivr import create_app
from ivr.domain.floor import Leg
from ivr.store.floor import FloorStore
from tests import signin
from tests.signin import add_users

CALL = "CA" + "5" * 32
AGENT_LEG = "CA" + "6" * 32


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "twilio_api_base": f"http://127.0.0.1:{closed_port()}",
                              "instance_dir": tmp_path / "instance",
                              "prompts_audio_dir": tmp_path / "no-audio"})
    add_users(tmp_path / "instance", alice="agent", bob="agent", sam="supervisor")
    return application


@pytest.fixture
def floor(app: Flask, redis):
    store = FloorStore(redis)
    store.create(CALL, "support", agent="alice", reservation="r1", conference="CF" + "1" * 32)
    store.add_leg(CALL, Leg(CALL, "caller", "caller", "joined", since=1.0, in_room=True))
    store.add_leg(CALL, Leg(AGENT_LEG, "agent", "alice", "joined", since=2.0, in_room=True))
    app.extensions["ivr"].calls.store.mark(CALL, agent="alice")  # routed to alice
    return store


def client(app: Flask, name: str):  # type: ignore[no-untyped-def]
    c = signin.signed_in(app, name)
    token = signin.login_token(c)

    def post(path: str, body: dict):  # type: ignore[no-untyped-def]
        return c.post(path, json=body, headers={"X-CSRF-Token": token,
                                                "Accept": "application/json"})
    return post


def test_impossible_moves_say_why(app: Flask, floor):
    alice = client(app, "alice")
    resp = alice("/agent/call/resume", {"call": CALL})
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "the caller is not on hold"
    assert alice("/agent/call/unmute", {"call": CALL}).get_json()["error"] == "you are not muted"
    assert alice("/agent/call/consult/complete", {"call": CALL}).status_code == 409
    assert alice("/agent/call/transfer", {"call": CALL, "to_type": "agent",
                                          "to": "alice"}).status_code == 409
    assert alice("/agent/call/fly", {"call": CALL}).status_code == 404
    assert alice("/agent/call/hold", {}).status_code == 400


def test_another_agents_call_is_forbidden(app: Flask, floor):
    bob = client(app, "bob")
    resp = bob("/agent/call/hold", {"call": CALL})
    assert resp.status_code == 403


def test_dialled_numbers_pass_the_toll_fraud_policy(app: Flask, floor):
    alice = client(app, "alice")
    for number in ("+19005550123", "+8816221234", "+18765550123"):  # premium, satellite, JM
        resp = alice("/agent/call/transfer", {"call": CALL, "to_type": "number", "to": number})
        assert resp.status_code == 409, number
        assert "may not be dialled" in resp.get_json()["error"]
    resp = alice("/agent/call/add", {"call": CALL, "to_type": "agent", "to": "nobody"})
    assert resp.get_json()["error"] == "there is no agent 'nobody'"


def test_a_colleague_on_another_call_is_not_rung(app: Flask, floor):
    app.extensions["ivr"].queue_engine.agents.floor_joined("dan", "CA" + "9" * 32, 1.0)
    alice = client(app, "alice")
    resp = alice("/agent/call/consult", {"call": CALL, "to_type": "agent", "to": "dan"})
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "dan is on another call"


def test_twilio_unreachable_is_a_502_and_changes_nothing(app: Flask, floor):
    alice = client(app, "alice")
    resp = alice("/agent/call/hold", {"call": CALL})
    assert resp.status_code == 502
    assert "Twilio did not make the change" in resp.get_json()["error"]
    assert floor.load(CALL).held is False


def test_monitoring_is_for_supervisors(app: Flask, floor):
    alice = client(app, "alice")
    assert alice("/supervisor/monitor", {"call": CALL, "mode": "listen"}).status_code == 403
    sam = client(app, "sam")
    assert sam("/supervisor/monitor", {"call": CALL, "mode": "shout"}).status_code == 409
    assert sam("/supervisor/monitor/stop", {"call": CALL}).get_json()["error"] == (
        "you are not monitoring this call")


def test_a_move_before_both_are_in_the_conference_waits_and_a_late_save_keeps_the_join(
        app: Flask, floor):
    """The agent's leg answered (joined) but the conference has not said it entered the room
    yet: hold is refused with the reason (409) before anything reaches Twilio (which here
    would be a 502). The participant-join is a field of its own, so a console move that read
    the floor before it came cannot write it away."""
    floor.in_room(CALL, AGENT_LEG, False)
    alice = client(app, "alice")
    resp = alice("/agent/call/hold", {"call": CALL})
    assert resp.status_code == 409
    assert "still connecting" in resp.get_json()["error"]
    before = floor.load(CALL)
    assert before.state() == "connecting"
    floor.in_room(CALL, AGENT_LEG, True)  # the participant-join arrives
    floor.save(before)  # a move that read the floor earlier writes its legs back
    assert floor.load(CALL).state() == "talking"
