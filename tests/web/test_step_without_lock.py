"""A step taken without the call's lock (ivr/phone/calls.py _advance_known, CallStateStore
commit_if_current): a process that wrote a call's last step answers the next one in one
round trip, with the same TwiML and events as the locked path; when another process moved
the call on, a retry arrives or a lock is held, nothing is written and the locked path
answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from ivr.store import call_state, keys
from tests.web.conftest import BASE, sign, standard_params, web_settings

STEPS = [("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}),
         ("/voice/next?seq=2", {"Digits": "3"}), ("/voice/next?seq=3", {"Digits": "1"})]


def post(app: Flask, path: str, params: dict[str, str]) -> str:
    resp = app.test_client().post(path, data=params,
                                  headers={"X-Twilio-Signature": sign(BASE + path, params)})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def events_of(redis, call_sid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f[b"kind"].decode(), json.loads(f[b"data"]))
            for _, f in redis.xrange(keys.events_stream()) if f[b"call"].decode() == call_sid]


def count_begins(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    store = app.extensions["ivr"].calls.store
    seen: list[int] = []
    begin = store._begin_with
    monkeypatch.setattr(store, "_begin_with", lambda *a: (seen.append(1), begin(*a))[1])
    return seen


def play(app: Flask, call_sid: str) -> list[str]:
    return [post(app, path, standard_params(call_sid, **extra)) for path, extra in STEPS]


def test_same_answers_and_events_as_the_locked_path_with_one_round_trip_less(
        app: Flask, redis, monkeypatch: pytest.MonkeyPatch):
    begins = count_begins(app, monkeypatch)
    known = play(app, "CA" + "1" * 32)
    # none: every /voice/next skipped call_begin, and so did the new call's /voice
    # (recorded in one round trip, ivr/store/call_start.py; tests/web/test_one_trip_start.py)
    assert len(begins) == 0
    monkeypatch.setattr(call_state, "RECENT_CALLS", 0)  # this process remembers nothing
    locked = play(app, "CA" + "2" * 32)
    assert len(begins) == len(STEPS) - 1  # every /voice/next
    assert [a.replace("1" * 32, "2" * 32) for a in known] == locked
    assert events_of(redis, "CA" + "1" * 32) == events_of(redis, "CA" + "2" * 32)


def test_a_call_another_process_moved_on_gets_the_answer_that_process_gave(
        app: Flask, redis, tmp_path):
    from ivr import create_app

    config = app.config["IVR"]
    other = create_app(web_settings(config.redis_url, tmp_path,
                                    twilio_account_sid="AC" + "1" * 32,
                                    instance_dir=tmp_path / "other"))
    sid = "CA" + "3" * 32
    post(app, "/voice", standard_params(sid))
    post(app, "/voice/next?seq=1", standard_params(sid, Digits="1"))  # app remembers step 2
    theirs = post(other, "/voice/next?seq=2", standard_params(sid, Digits="3"))
    # Twilio retries step 2 and the retry lands on the first process, one step behind
    assert post(app, "/voice/next?seq=2", standard_params(sid, Digits="3")) == theirs
    assert app.extensions["ivr"].calls.store.recent(sid) is None  # refused, then forgotten
    happened = events_of(redis, sid)
    assert [d["digits"] for k, d in happened if k == "input"] == ["1", "3"]  # step 2 once
    assert [k for k, _ in happened].count("self_service") == 1


def test_a_held_lock_or_an_answered_step_means_nothing_is_written(app: Flask, redis):
    sid = "CA" + "4" * 32
    post(app, "/voice", standard_params(sid))
    store = app.extensions["ivr"].calls.store
    remembered = store.recent(sid)
    assert remembered is not None
    assert remembered.seq == 1
    redis.set(call_state._lock_key(sid), "someone-else", px=60_000)
    before = redis.hgetall(keys.call(sid))
    assert not store.commit_if_current(sid, remembered, 1, "<Response/>", [])
    assert redis.hgetall(keys.call(sid)) == before
    assert store.recent(sid) is None  # forgotten: the next webhook takes the locked path
    redis.delete(call_state._lock_key(sid))
    redis.hset(keys.call_responses(sid), "1", "<Response>given</Response>")
    assert not store.commit_if_current(sid, remembered, 1, "<Response/>", [])
    assert redis.hget(keys.call_responses(sid), "1") == b"<Response>given</Response>"
