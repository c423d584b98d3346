"""The agent's presence routes (dashboards/agent_presence.py): the softphone's device state
decides whether a `client:` agent is offered calls; the console ends or extends after-call
work; a queue's required disposition holds wrap-up until it is filed. Real Redis, the app
over HTTP (Flask's client), the repository's queues.yaml with one queue requiring a
disposition."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from flask import Flask

from ivr.domain.flow.actions import CallEvent
from ivr.store import keys
from ivr.store.operator_flags import set_flag
from tests import signin

SID = "CA" + "5" * 32
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    queues = yaml.safe_load((REPO / "queues.yaml").read_text())
    for spec in queues["queues"].values():
        spec["disposition_required"] = True
        spec["wrap_up_seconds"] = 10
    (tmp_path / "queues.yaml").write_text(yaml.safe_dump(queues))
    return signin.pages_app(redis_url, tmp_path, {"alice": "agent", "bob": "agent"},
                            queues_file=tmp_path / "queues.yaml")


def signed_in(app: Flask, name: str):  # type: ignore[no-untyped-def]
    client = signin.signed_in(app, name)
    return client, {"X-CSRF-Token": signin.login_token(client)}


def caller_waits(app: Flask, redis) -> None:  # type: ignore[no-untyped-def]
    svc = app.extensions["ivr"]
    set_flag(redis, "always_open", "on")
    now = datetime.now(UTC)
    svc.calls.start(SID, {"From": "+14155550123", "To": "+14155550100"}, now)
    for seq, digits in enumerate(("1", "2", "55000004", "2"), start=1):
        svc.calls.advance(SID, seq, CallEvent("input", now, digits=digits))


def route(app: Flask) -> None:
    engine = app.extensions["ivr"].queue_engine
    for queue in engine.queues:
        engine.route(queue, time.time())


def test_the_device_decides_whether_a_softphone_agent_is_offered_the_call(app: Flask, redis):
    engine = app.extensions["ivr"].queue_engine
    caller_waits(app, redis)
    alice, headers = signed_in(app, "alice")
    engine.agent_presence("alice", "available", time.time())
    route(app)
    ctx = alice.get("/agent/context.json").get_json()
    assert (ctx["presence"], ctx["call"], ctx["device"]) == ("available", None, None)
    bad = alice.post("/agent/device", json={"state": "online"}, headers=headers)
    assert bad.status_code == 400
    unreg = alice.post("/agent/device", json={"state": "unregistered"}, headers=headers)
    assert unreg.get_json()["device"] == "unregistered"
    route(app)
    assert alice.get("/agent/context.json").get_json()["presence"] == "available"
    reg = alice.post("/agent/device", json={"state": "registered"}, headers=headers)
    assert reg.get_json() == {"ok": True, "agent": "alice", "device": "registered"}
    route(app)
    ctx = alice.get("/agent/context.json").get_json()
    assert (ctx["presence"], ctx["call"]["call_sid"], ctx["device"]) == (
        "ringing", SID, "registered")
    assert alice.post("/agent/device", json={"state": "registered"}).status_code == 403  # CSRF


def test_a_poll_refreshes_the_device_and_only_of_the_signed_in_agent(app: Flask, redis):
    engine = app.extensions["ivr"].queue_engine
    alice, headers = signed_in(app, "alice")
    alice.post("/agent/device", json={"state": "registered"}, headers=headers)
    redis.hset(keys.agent("alice"), "device_at", 1000)  # long silent
    assert not engine.agents.get("alice").reachable(time.time() - 30)
    alice.get("/agent/context.json")
    assert engine.agents.get("alice").reachable(time.time() - 30)
    bob, b_headers = signed_in(app, "bob")
    bob.post("/agent/device?agent=alice", json={"state": "unregistered"}, headers=b_headers)
    assert engine.agents.detail("alice")["device"] == "registered"  # bob only sets his own


def test_wrap_up_waits_for_the_disposition_then_ends_and_is_recorded(app: Flask, redis):
    engine = app.extensions["ivr"].queue_engine
    caller_waits(app, redis)
    alice, headers = signed_in(app, "alice")
    alice.post("/agent/device", json={"state": "registered"}, headers=headers)
    engine.agent_presence("alice", "available", time.time())
    route(app)
    token = engine.agents.detail("alice")["token"]
    engine.bridge_answered(SID, token, time.time())
    engine.call_ended(SID, time.time())
    wrap = alice.get("/agent/context.json").get_json()["wrap_up"]
    assert wrap["disposition_required"] is True
    assert wrap["call"] == SID
    assert wrap["until"] == pytest.approx(time.time() + 10, abs=2)
    refused = alice.post("/agent/wrapup/end", headers=headers)
    assert refused.status_code == 409
    assert "disposition" in refused.get_json()["error"]
    longer = alice.post("/agent/wrapup/extend", json={"seconds": 20}, headers=headers)
    assert longer.get_json()["wrap_up"]["until"] == pytest.approx(wrap["until"] + 20, abs=0.01)
    assert alice.post("/agent/wrapup/extend", json={"seconds": "x"},
                      headers=headers).status_code == 400
    filed = alice.post("/agent/disposition", data={"call_sid": SID, "code": "resolved"},
                       headers=headers)
    assert filed.status_code == 200
    assert alice.get("/agent/context.json").get_json()["presence"] == "wrap_up"  # time left
    ended = alice.post("/agent/wrapup/end", headers=headers)
    assert ended.get_json() == {"ok": True, "ended": SID, "presence": "available"}
    assert alice.post("/agent/wrapup/end", headers=headers).status_code == 409
    ctx = alice.get("/agent/context.json").get_json()
    assert (ctx["presence"], ctx["wrap_up"]) == ("available", None)
    [(call, data)] = [(f[b"call"].decode(), json.loads(f[b"data"]))
                      for _, f in redis.xrange(keys.events_stream()) if f[b"kind"] == b"wrap_up"]
    assert call == SID
    assert (data["agent"], data["ended"], data["extended"]) == ("alice", "early", 20.0)
