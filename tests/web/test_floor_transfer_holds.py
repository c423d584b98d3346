"""The target of a transfer or consult is held while their phone rings (docs/agent-floor.md,
"Agent state"): `ringing` for the caller, so routing does not offer them another caller at
the same moment and a second move cannot ring them too; answered, they are on the call;
unanswered (the ring's status callback) or not placed (Twilio refused the REST call), they
are back to the presence they had. The console's moves reach Twilio's REST API at the local
HTTP server of tests/worker/conftest.py; the webhooks are posted signed as Twilio posts them."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from ivr import create_app
from ivr.domain.floor import Leg
from ivr.store.floor import FloorStore
from tests import signin
from tests.signin import add_users
from tests.web.conftest import standard_params, web_settings
from tests.worker.conftest import FakeTwilio, running_fake_twilio

CALL = "CA" + "5" * 32
AGENT_LEG = "CA" + "6" * 32
OTHER = "CA" + "8" * 32


@pytest.fixture
def twilio():
    with running_fake_twilio() as fake:
        yield fake


@pytest.fixture
def app(redis_url: str, redis, tmp_path, twilio) -> Flask:
    application = create_app(web_settings(redis_url, tmp_path, twilio_api_base=twilio.url,
                                          twilio_account_sid="AC" + "1" * 32))
    add_users(tmp_path / "instance", alice="agent", bob="agent")
    for call, agent, leg in ((CALL, "alice", AGENT_LEG), (OTHER, "bob", "CA" + "9" * 32)):
        store = FloorStore(redis)
        store.create(call, "support", agent=agent, reservation="r-" + agent,
                     conference="CF" + call[2:])
        store.add_leg(call, Leg(call, "caller", "caller", "joined", since=1.0, in_room=True))
        store.add_leg(call, Leg(leg, "agent", agent, "joined", since=2.0, in_room=True))
        application.extensions["ivr"].calls.store.mark(call, agent=agent)
    engine = application.extensions["ivr"].queue_engine
    engine.agents.device("dan", "registered", time.time())
    engine.agent_presence("dan", "available", time.time())
    return application


def console(app: Flask, name: str):  # type: ignore[no-untyped-def]
    c = signin.signed_in(app, name)
    token = signin.login_token(c)
    return lambda path, body: c.post(path, json=body, headers={
        "X-CSRF-Token": token, "Accept": "application/json"})


def webhook(app: Flask, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    from tests.web.conftest import BASE, sign

    return app.test_client().post(path, data=params,
                                  headers={"X-Twilio-Signature": sign(BASE + path, params)})


def presence(app: Flask, agent: str) -> str:
    return str(app.extensions["ivr"].queue_engine.agents.get(agent).presence.value)


def consult_leg(twilio: FakeTwilio) -> str:
    (ring,) = twilio.served_for("/Calls.json")
    assert "who=dan" in ring["Url"]
    return "CA" + f"{len(twilio.received):032d}"  # the sid the fake gave the new call


def test_a_consulted_agent_is_held_while_ringing_and_freed_when_nobody_answers(app, twilio):
    resp = console(app, "alice")("/agent/call/consult", {"call": CALL, "to_type": "agent",
                                                         "to": "dan"})
    assert resp.status_code == 200, resp.get_json()
    leg = consult_leg(twilio)
    assert presence(app, "dan") == "ringing"
    engine = app.extensions["ivr"].queue_engine
    engine.join("CA" + "7" * 32, "support", time.time() - 30)  # a caller waits meanwhile
    assert [r.agent.id for r in engine.route("support", time.time()).reservations] == []
    other = console(app, "bob")("/agent/call/transfer", {"call": OTHER, "to_type": "agent",
                                                          "to": "dan"})
    assert other.status_code == 409
    assert other.get_json()["error"] == "dan is on another call"
    done = webhook(app, f"/voice/floor/leg?call={CALL}&role=consult&who=dan",
                   standard_params(leg, CallStatus="no-answer", Direction="outbound-api"))
    assert done.status_code == 204
    assert presence(app, "dan") == "available"
    assert engine.agents.missed_rings("dan") == 1


def test_a_transfer_target_who_answers_is_on_the_call(app, twilio):
    resp = console(app, "alice")("/agent/call/transfer", {"call": CALL, "to_type": "agent",
                                                          "to": "dan"})
    assert resp.status_code == 200, resp.get_json()
    leg = consult_leg(twilio)
    answered = webhook(app, f"/voice/floor/agent?call={CALL}&role=agent&who=dan",
                       standard_params(leg, Direction="outbound-api", To="client:dan"))
    assert "<Conference" in answered.get_data(as_text=True)
    assert presence(app, "dan") == "on_call"
    detail = app.extensions["ivr"].queue_engine.agents.detail("dan")
    assert detail["member"] == CALL
    assert detail["floor_prev"] == "available"  # what he goes back to after a consult
    assert "floor_ring" not in detail


def test_a_ring_twilio_refuses_frees_the_target(app, twilio):
    twilio.refuse["/Calls.json"] = (400, 21211)
    resp = console(app, "alice")("/agent/call/consult", {"call": CALL, "to_type": "agent",
                                                         "to": "dan"})
    assert resp.status_code == 502
    assert presence(app, "dan") == "available"
    # the consult held the caller before the ring failed: the hold is taken off again
    assert [f["Hold"] for f in twilio.served_for(f"/Participants/{CALL}.json")] == [
        "true", "false"]
    assert console(app, "alice")("/agent/call/hold", {"call": CALL}).status_code == 200
    assert "floor_ring" not in app.extensions["ivr"].queue_engine.agents.detail("dan")
