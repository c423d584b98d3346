"""The console's moves against a Twilio that says the leg has ended already (docs/agent-floor.md,
"The console's control API"): the agent's hang-up, or a consult cancelled, whose leg hung up
by itself between the console's read and the REST call. Twilio answers the update with 400
21220 ("Call is not in-progress"); the move wanted that leg gone, so it succeeds. The REST
API is the local HTTP server of tests/worker/conftest.py, refusing as Twilio does."""

from __future__ import annotations

import pytest
from flask import Flask

from ivr import create_app
from ivr.domain.floor import Leg
from ivr.store.floor import FloorStore
from tests import signin
from tests.signin import add_users
from tests.worker.conftest import running_fake_twilio

CALL = "CA" + "5" * 32
AGENT_LEG = "CA" + "6" * 32
CONSULT_LEG = "CA" + "7" * 32


@pytest.fixture
def twilio():
    with running_fake_twilio() as fake:
        yield fake


@pytest.fixture
def app(redis_url: str, redis, tmp_path, twilio) -> Flask:  # noqa: ARG001 - redis flushes
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "twilio_api_base": twilio.url,
                              "instance_dir": tmp_path / "instance",
                              "prompts_audio_dir": tmp_path / "no-audio"})
    add_users(tmp_path / "instance", alice="agent")
    store = FloorStore(redis)
    store.create(CALL, "support", agent="alice", reservation="r1", conference="CF" + "1" * 32)
    store.add_leg(CALL, Leg(CALL, "caller", "caller", "joined", since=1.0, in_room=True))
    store.add_leg(CALL, Leg(AGENT_LEG, "agent", "alice", "joined", since=2.0, in_room=True))
    application.extensions["ivr"].calls.store.mark(CALL, agent="alice")
    return application


def alice(app: Flask):  # type: ignore[no-untyped-def]
    c = signin.signed_in(app, "alice")
    token = signin.login_token(c)
    return lambda path, body: c.post(path, json=body, headers={
        "X-CSRF-Token": token, "Accept": "application/json"})


def test_hanging_up_a_leg_that_has_ended_already_succeeds(app: Flask, twilio):
    twilio.refuse[f"/Calls/{AGENT_LEG}.json"] = (400, 21220)
    resp = alice(app)("/agent/call/hangup", {"call": CALL})
    assert resp.status_code == 200, resp.get_json()
    (asked,) = twilio.received  # the one request the move made was the hang-up
    assert asked[0].endswith(f"/Calls/{AGENT_LEG}.json")
    assert asked[1] == {"Status": "completed"}


def test_cancelling_a_consult_whose_leg_has_gone_resumes_the_caller(app: Flask, redis, twilio):
    store = FloorStore(redis)
    store.add_leg(CALL, Leg(CONSULT_LEG, "consult", "dan", "joined", since=3.0, in_room=True))
    store.set(CALL, held_since="3.0", hold_count="1")
    store.update_leg(CALL, CALL, lambda b: Leg(CALL, "caller", "caller", "joined", since=1.0,
                                               held=True))
    twilio.refuse[f"/Calls/{CONSULT_LEG}.json"] = (400, 21220)
    resp = alice(app)("/agent/call/consult/cancel", {"call": CALL})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["floor"]["held"] is False
    assert twilio.served_for(f"/Participants/{CALL}.json") == [{"Hold": "false"}]


def test_another_refusal_is_still_told_to_the_agent(app: Flask, twilio):
    twilio.refuse[f"/Calls/{AGENT_LEG}.json"] = (400, 21205)
    resp = alice(app)("/agent/call/hangup", {"call": CALL})
    assert resp.status_code == 502
