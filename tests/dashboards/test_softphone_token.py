"""`GET /agent/token`: the softphone's access token is for the signed-in user's own identity
(never `?agent=`'s), lasts IVR_VOICE_TOKEN_TTL, and grants incoming calls and outgoing calls
through the TwiML App; decoded with PyJWT against the key it was signed with."""

from __future__ import annotations

import time

import jwt
import pytest
from flask import Flask

from ivr.config.settings import DEV_ACCOUNT_SID
from ivr.phone.voice_token import DEV_API_KEY_SECRET, DEV_API_KEY_SID, DEV_TWIML_APP_SID
from tests import signin

KEY_SID, SECRET, APP_SID = "SK" + "a1" * 16, "s3cr3t" * 6, "AP" + "b2" * 16


def make_app(redis_url: str, tmp_path, **config) -> Flask:  # type: ignore[no-untyped-def]
    # alice: client:alice; bob: a phone number (queues.yaml); sue: a supervisor
    return signin.pages_app(redis_url, tmp_path,
                            {"alice": "agent", "bob": "agent", "sue": "supervisor"}, **config)


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    return make_app(redis_url, tmp_path, twilio_account_sid="AC" + "c3" * 16,
                    twilio_api_key_sid=KEY_SID, twilio_api_key_secret=SECRET,
                    twilio_twiml_app_sid=APP_SID, voice_token_ttl=900)


def decoded(answer, secret: str = SECRET) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return jwt.decode(answer["token"], secret, algorithms=["HS256"])


def test_an_agent_gets_a_token_for_herself_only(app: Flask):
    alice = signin.signed_in(app, "alice")
    before = time.time()
    answer = alice.get("/agent/token?agent=dan").get_json()  # asks for dan: still alice
    assert answer["identity"] == "alice"
    assert answer["ttl"] == 900
    claims = decoded(answer)
    assert claims["iss"] == KEY_SID
    assert claims["sub"] == "AC" + "c3" * 16
    assert claims["grants"]["identity"] == "alice"
    assert claims["grants"]["voice"] == {"incoming": {"allow": True},
                                         "outgoing": {"application_sid": APP_SID}}
    assert before + 900 - 2 <= claims["exp"] <= time.time() + 900 + 2
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(answer["token"], "another-secret-" + "x" * 32, algorithms=["HS256"])


def test_a_supervisor_gets_her_own_token_even_on_an_agents_console(app: Flask):
    sue = signin.signed_in(app, "sue")
    answer = sue.get("/agent/token?agent=alice").get_json()
    assert answer["identity"] == "sue"
    assert decoded(answer)["grants"]["identity"] == "sue"


def test_an_agent_at_a_phone_number_gets_no_softphone_token(app: Flask):
    bob = signin.signed_in(app, "bob")
    answer = bob.get("/agent/token")
    assert answer.status_code == 409
    assert "phone number" in answer.get_json()["error"]


def test_no_token_without_signing_in(app: Flask):
    answer = app.test_client().get("/agent/token")
    assert answer.status_code in (302, 401)
    assert "token" not in (answer.get_json(silent=True) or {})


def test_the_standin_signs_with_the_development_key(redis_url: str, redis, tmp_path):  # noqa: ARG001
    app = make_app(redis_url, tmp_path)  # no credentials: the local stand-in
    answer = signin.signed_in(app, "alice").get("/agent/token").get_json()
    claims = decoded(answer, DEV_API_KEY_SECRET)
    assert (claims["iss"], claims["sub"]) == (DEV_API_KEY_SID, DEV_ACCOUNT_SID)
    assert claims["grants"]["voice"]["outgoing"] == {"application_sid": DEV_TWIML_APP_SID}
    assert answer["ttl"] == 3600  # the default


def test_real_twilio_without_an_api_key_says_what_to_set(redis_url: str, redis, tmp_path):  # noqa: ARG001
    app = make_app(redis_url, tmp_path, twilio_account_sid="AC" + "c3" * 16)
    answer = signin.signed_in(app, "alice").get("/agent/token")
    assert answer.status_code == 503
    assert "TWILIO_API_KEY_SID" in answer.get_json()["error"]
