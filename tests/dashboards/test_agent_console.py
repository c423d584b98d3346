"""The agent console: the call reserved for me with why the caller called; dispositions."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from flask import Flask

from ivr.domain.flow.actions import CallEvent
from ivr.store import keys
from ivr.store.operator_flags import set_flag
from tests import signin
from tests.signin import add_users

SID = "CA" + "7" * 32


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    return signin.pages_app(redis_url, tmp_path, {"alice": "agent", "bob": "agent"})


def signed_in(app: Flask, name: str):  # type: ignore[no-untyped-def]
    client = signin.signed_in(app, name)
    return client, signin.login_token(client)  # a new session, a new token


def test_agent_sees_why_the_caller_called_and_files_a_disposition(app: Flask, redis):
    svc = app.extensions["ivr"]
    set_flag(redis, "always_open", "on")
    now = datetime.now(UTC)
    caller = {"From": "+14155550123", "To": "+14155550100",
              "CallerName": "<script>alert(1)</script>"}
    svc.calls.start(SID, caller, now)
    svc.calls.advance(SID, 1, CallEvent("input", now, digits="1"))  # English
    svc.calls.advance(SID, 2, CallEvent("input", now, digits="2"))  # balance
    svc.calls.advance(SID, 3, CallEvent("input", now, digits="55000004"))
    svc.calls.advance(SID, 4, CallEvent("input", now, digits="2"))  # not solved -> a person
    engine = svc.queue_engine
    engine.agents.device("alice", "registered", time.time())  # her softphone is signed in
    engine.agent_presence("alice", "available", time.time())
    for queue in engine.queues:
        engine.route(queue, time.time())
    alice, token = signed_in(app, "alice")
    ctx = alice.get("/agent/context.json").get_json()
    assert ctx["presence"] == "ringing"
    call = ctx["call"]
    assert call["from"] == "+14155550123"
    assert call["caller_name"] == "<script>alert(1)</script>"  # data, shown as text
    assert call["looked_up"]["account"]["name"] == "Ana Lopez"
    assert call["self_service"] == [{"node": "say_balance", "task": "account_balance",
                                     "solved": True}]
    page = alice.get("/agent").data
    assert b"<script>alert(1)</script>" not in page
    bob, _ = signed_in(app, "bob")
    assert bob.get("/agent/context.json?agent=alice").get_json()["agent"] == "bob"  # only self
    filed = alice.post("/agent/disposition", data={"call_sid": SID, "code": "resolved",
                                                   "notes": "explained the bill"},
                       headers={"X-CSRF-Token": token})
    assert filed.status_code == 200
    (_, fields), = [e for e in redis.xrange(keys.events_stream())
                    if e[1][b"kind"] == b"disposition"]
    assert json.loads(fields[b"data"]) == {"agent": "alice", "code": "resolved",
                                           "notes": "explained the bill"}
    bad = alice.post("/agent/disposition", data={"call_sid": SID, "code": "whatever"},
                     headers={"X-CSRF-Token": token})
    assert bad.status_code == 400


def _disposition(client, token: str, call_sid: str):  # type: ignore[no-untyped-def]
    return client.post("/agent/disposition", data={"call_sid": call_sid, "code": "resolved"},
                       headers={"X-CSRF-Token": token})


def _ringing_for_alice(app: Flask, redis) -> None:  # type: ignore[no-untyped-def]
    svc = app.extensions["ivr"]
    set_flag(redis, "always_open", "on")
    now = datetime.now(UTC)
    svc.calls.start(SID, {"From": "+14155550123", "To": "+14155550100"}, now)
    for seq, digits in enumerate(("1", "2", "55000004", "2"), start=1):
        svc.calls.advance(SID, seq, CallEvent("input", now, digits=digits))
    svc.queue_engine.agents.device("alice", "registered", time.time())
    svc.queue_engine.agent_presence("alice", "available", time.time())
    for queue in svc.queue_engine.queues:
        svc.queue_engine.route(queue, time.time())


def test_agents_file_dispositions_only_on_calls_put_through_to_them(app: Flask, redis):
    from dashboards.auth import user_engine
    from ivr.store import models as m
    from ivr.store.call_state import CallStateStore

    add_users(app.config["IVR"].instance_dir, sue="supervisor")
    _ringing_for_alice(app, redis)
    (alice, a_token), (bob, b_token) = signed_in(app, "alice"), signed_in(app, "bob")
    refused = _disposition(bob, b_token, SID)
    assert refused.status_code == 403
    assert "was not put through to you" in refused.get_json()["error"]
    assert not [e for e in redis.xrange(keys.events_stream()) if e[1][b"kind"] == b"disposition"]
    assert _disposition(alice, a_token, SID).status_code == 200  # ringing for her now
    bridged, answered = "CA" + "8" * 32, "CA" + "9" * 32
    CallStateStore(redis).mark(bridged, agent="bob")  # what bridging records on the call
    with app.app_context():
        from sqlalchemy.orm import Session

        with Session(user_engine()) as session, session.begin():  # a call the writer recorded
            session.add(m.CallRow(call_sid=answered, caller="+14155550199"))
            session.flush()
            session.add(m.QueueVisitRow(call_sid=answered, seq=1, queue="support",
                                     joined_at=datetime.now(UTC), agent="bob"))
    assert _disposition(bob, b_token, bridged).status_code == 200
    assert _disposition(bob, b_token, answered).status_code == 200
    assert _disposition(alice, a_token, answered).status_code == 403
    assert _disposition(alice, a_token, bridged).status_code == 403
    sue, s_token = signed_in(app, "sue")
    for call_sid in (SID, answered, "CA" + "6" * 32):  # supervisors: any call
        assert _disposition(sue, s_token, call_sid).status_code == 200


def test_a_callbacks_disposition_is_filed_under_the_call_that_asked_for_it(app: Flask, redis):
    """The console knows a callback's call as `cb:<id>`; its floor events go under the call
    that asked for the callback (FloorStore.record_of), and so must its disposition, or the
    call record and the caller's history would never show it."""
    from ivr.store.call_state import CallStateStore
    from ivr.store.floor import FloorStore

    asked = "CA" + "5" * 32
    FloorStore(redis).create("cb:42", "support", record=asked)
    CallStateStore(redis).mark("cb:42", agent="alice")  # put through to alice
    alice, token = signed_in(app, "alice")
    assert _disposition(alice, token, "cb:42").status_code == 200
    filed = [e for e in redis.xrange(keys.events_stream()) if e[1][b"kind"] == b"disposition"]
    assert [f[b"call"].decode() for _, f in filed] == [asked]


def test_the_wait_shown_stops_when_an_agent_joins(app: Flask, redis):
    """'Waited' is the time in line, not the time since joining it: once alice is in the
    caller's conference it stays put however long they talk."""
    from ivr.domain.floor import Leg
    from ivr.store.floor import FloorStore

    _ringing_for_alice(app, redis)
    alice, _ = signed_in(app, "alice")
    joined_ms = int(redis.hget(keys.queue_entry(SID), "joined_at"))
    floor = FloorStore(redis)
    floor.create(SID, "support", agent="alice")
    floor.add_leg(SID, Leg("CA" + "1" * 32, "agent", "alice", "joined",
                           since=joined_ms / 1000 + 42))
    floor.add_leg(SID, Leg("CA" + "2" * 32, "agent", "bob", "joined",
                           since=joined_ms / 1000 + 500))  # a transfer later on
    assert alice.get("/agent/context.json").get_json()["call"]["waited"] == 42
