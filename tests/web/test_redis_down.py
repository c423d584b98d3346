"""Redis down: callers hear the apology and the fallback route, never an application error;
when Redis is back the same app (no restart) puts those callers in line for an agent."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from ivr import create_app
from ivr.store.embedded_redis import EmbeddedRedis
from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import BASE, sign, standard_params, web_settings


@pytest.fixture
def own_redis(tmp_path: Path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def test_callers_get_the_fallback_while_redis_is_down_and_are_queued_when_it_is_back(
        own_redis: EmbeddedRedis, tmp_path: Path):
    app = create_app(web_settings(own_redis.url, tmp_path))
    client = app.test_client()

    def post(path: str, params: dict[str, str]):
        return client.post(path, data=params,
                           headers={"X-Twilio-Signature": sign(BASE + path, params)})

    sid = "CA" + uuid.uuid4().hex
    own_redis.stop()
    answer = post("/voice", standard_params(sid, To="+14155550100"))
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert_valid_twiml(body)
    assert "something went wrong on our side" in body
    assert "<Enqueue" in body
    assert "fallback=1" in body

    wait = "/voice/queue/wait?queue=support&fallback=1"
    held = post(wait, standard_params(sid, QueuePosition="1", QueueTime="5"))
    assert held.status_code == 200
    assert_valid_twiml(held.get_data(as_text=True), "wait")
    assert "Thank you for waiting" in held.get_data(as_text=True)

    # A caller already in line (not a fallback caller) keeps holding: inside a waitUrl the
    # usual fallback (<Enqueue>) is not allowed and would drop the call.
    regular = post("/voice/queue/wait?queue=support", standard_params(sid, QueuePosition="2"))
    assert regular.status_code == 200
    assert_valid_twiml(regular.get_data(as_text=True), "wait")
    assert "<Enqueue" not in regular.get_data(as_text=True)
    key = post("/voice/queue/key?queue=support", standard_params(sid, Digits="1"))
    assert_valid_twiml(key.get_data(as_text=True), "wait")

    own_redis.start()  # same folder: the AOF brings back whatever was there
    again = post(wait, standard_params(sid, QueuePosition="1", QueueTime="35"))
    assert again.status_code == 200
    assert_valid_twiml(again.get_data(as_text=True), "wait")
    engine = app.extensions["ivr"].queue_engine
    assert engine.position(sid) == 1  # in our line now: routing will find them an agent
    assert "You are next in line." in again.get_data(as_text=True)


def test_a_status_callback_while_redis_is_down_is_spooled_and_recorded_when_it_is_back(
        own_redis: EmbeddedRedis, tmp_path: Path):
    """Twilio never retries a status callback: the call's end must survive Redis being away
    (ivr/outcomes/spool.py), and must reach the outcome stream once, when Redis is back."""
    from ivr.store import events

    app = create_app(web_settings(own_redis.url, tmp_path))
    svc = app.extensions["ivr"]
    svc.drainer.every = 0.1
    client = app.test_client()
    sids = ["CA" + uuid.uuid4().hex for _ in range(3)]
    status = {"CallStatus": "completed", "CallDuration": "42"}
    for sid in sids:
        client.post("/voice", data=standard_params(sid, To="+14155550100"), headers={
            "X-Twilio-Signature": sign(BASE + "/voice", standard_params(sid, To="+14155550100"))})
    own_redis.stop()
    for sid in sids[:2]:
        params = standard_params(sid, **status)
        answer = client.post("/voice/status", data=params,
                             headers={"X-Twilio-Signature": sign(BASE + "/voice/status", params)})
        assert answer.status_code == 200
    assert svc.spool.held() == 2
    time.sleep(0.5)  # the drainer keeps trying while Redis is away: nothing is lost meanwhile
    assert svc.spool.held() == 2

    own_redis.start()
    events.ensure_group(svc.redis, "check")
    ended: list = []
    deadline = time.monotonic() + 15
    while (svc.spool.held() or len(ended) < 2) and time.monotonic() < deadline:
        ended += [e for e in events.read_new(svc.redis, "check", "t", 1000, None)
                  if e.kind == "call_ended"]
        time.sleep(0.1)
    time.sleep(0.3)  # a second drain would have written its copies by now
    ended += [e for e in events.read_new(svc.redis, "check", "t", 1000, None)
              if e.kind == "call_ended"]
    assert sorted(e.call_sid for e in ended) == sorted(sids[:2])  # once each, not the third
    assert {e.data["status"] for e in ended} == {"completed"}
    assert {e.at for e in ended} != {0.0}
    assert not list((tmp_path / "instance" / "spool").iterdir())
