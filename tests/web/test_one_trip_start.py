"""A new call's first step in one round trip (ivr/store/call_start.py): the same answers, state
and events as the locked path (IVR_ONE_TRIP_START=0), for a first-time caller, a returning one
and with an operator flag set; a flag flipped or a summary written after this process last saw
them is heard by the next call; a retry, a lock holder or a damaged hash takes the locked path
and nothing is written twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import redis as redis_lib
from flask import Flask

from ivr.domain.caller_history import summary_fields
from ivr.store import keys
from ivr.store.call_start import OneTripStart, Outcome
from ivr.store.call_state import StoredCall
from ivr.store.caller_summary import write_summary
from ivr.store.operator_flags import set_flag
from tests.web.conftest import BASE, sign, standard_params, web_settings
from tests.web.test_demo_flows import UTILITY, heard, walk

CALLER = "+14155550142"
NOON = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # a Wednesday, noon in Los Angeles
STEPS = [("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}),
         ("/voice/next?seq=2", {"Digits": "3"}), ("/voice/next?seq=3", {"Digits": "1"}),
         ("/voice/status", {"CallStatus": "completed", "CallDuration": "42"})]


def make_app(redis_url: str, tmp_path: Any, one_trip: bool) -> Flask:
    from ivr import create_app

    app = create_app(web_settings(redis_url, tmp_path, instance_dir=tmp_path / f"i{one_trip}",
                                  one_trip_start=one_trip))
    app.extensions["ivr"].clock = lambda: NOON
    return app


def outcomes(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[Outcome]:
    """What each one-trip attempt of `app` came to."""
    one_trip = app.extensions["ivr"].calls.one_trip
    seen: list[Outcome] = []
    record = one_trip.record

    def spied(*args: Any) -> Outcome:
        seen.append(record(*args))
        return seen[-1]

    monkeypatch.setattr(one_trip, "record", spied)
    return seen


def play(app: Flask, call_sid: str, to: str, steps: list[tuple[str, dict[str, str]]] = STEPS,
         ) -> list[str]:
    answers = []
    for path, extra in steps:
        params = standard_params(call_sid, From=CALLER, To=to, **extra)
        resp = app.test_client().post(path, data=params,
                                      headers={"X-Twilio-Signature": sign(BASE + path, params)})
        assert resp.status_code == 200
        answers.append(resp.get_data(as_text=True).replace(call_sid, "SID"))
    return answers


def events_of(redis: redis_lib.Redis, call_sid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f[b"kind"].decode(), json.loads(f[b"data"]))
            for _, f in redis.xrange(keys.events_stream()) if f[b"call"].decode() == call_sid]


def recorded(redis: redis_lib.Redis, call_sid: str) -> tuple[Any, ...]:
    """Everything a call left in Redis, its CallSid masked."""
    def masked(raw: dict[bytes, bytes]) -> dict[bytes, bytes]:
        return {k: v.replace(call_sid.encode(), b"SID") for k, v in raw.items()}
    return (masked(redis.hgetall(keys.call(call_sid))),
            masked(redis.hgetall(keys.call_responses(call_sid))),
            redis.ttl(keys.call(call_sid)) > 0, redis.exists(keys.call(call_sid) + ":lock"),
            events_of(redis, call_sid))


@pytest.mark.parametrize("who", ["first-time caller", "returning caller", "storm flag on"])
def test_same_answers_state_and_events_as_the_locked_path(
        redis_url: str, redis: redis_lib.Redis, tmp_path: Any, who: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    to = "+14155550100"
    if who == "returning caller":
        write_summary(redis, CALLER, summary_fields(
            [NOON.timestamp() - 7200], "answered", 5, "yes", 0, 1, NOON.timestamp()))
    if who == "storm flag on":
        set_flag(redis, "storm_mode", "on")
        to = UTILITY
    results = {}
    for one_trip in (True, False):
        app = make_app(redis_url, tmp_path, one_trip)
        assert (app.extensions["ivr"].calls.one_trip is not None) is one_trip
        seen = outcomes(app, monkeypatch) if one_trip else []
        sid = f"CA{int(one_trip):032d}"
        results[one_trip] = (play(app, sid, to), recorded(redis, sid))
        if one_trip:  # the guess starts empty: a summary or a flag costs one more try
            wrong = [Outcome.GUESSED_WRONG] if who != "first-time caller" else []
            assert seen == [*wrong, Outcome.RECORDED]
    assert results[True] == results[False]
    welcome = "Welcome back" if who == "returning caller" else "Thank you for calling"
    assert welcome in results[True][0][0] or who == "storm flag on"
    assert results[True][1][4][0][0] == "call_started"


def test_a_flag_or_summary_written_after_the_last_call_is_heard_by_the_next(
        app: Flask, redis: redis_lib.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = outcomes(app, monkeypatch)
    assert "planned maintenance" not in heard(walk(app, UTILITY, "press 1; press 94110#; press 1"))
    assert seen == [Outcome.RECORDED]  # no flags, as guessed
    set_flag(redis, "storm_mode", "on")
    assert "planned maintenance" in heard(walk(app, UTILITY, "press 1; press 94110#; press 1"))
    assert seen[1:] == [Outcome.GUESSED_WRONG, Outcome.RECORDED]
    assert "planned maintenance" in heard(walk(app, UTILITY, "press 1; press 94110#; press 1"))
    assert seen[3:] == [Outcome.RECORDED]  # the flag as last seen: one round trip again
    set_flag(redis, "storm_mode", None)
    assert "planned maintenance" not in heard(walk(app, UTILITY, "press 1; press 94110#; press 1"))
    assert seen[4:] == [Outcome.GUESSED_WRONG, Outcome.RECORDED]

    svc = app.extensions["ivr"]
    first = svc.calls.start("CA" + uuid.uuid4().hex, {"From": CALLER, "To": "+14155550100"},
                            NOON)
    assert "Thank you for calling Acme Outfitters." in first
    write_summary(redis, CALLER, summary_fields(
        [NOON.timestamp() - 7200], "answered", 5, "yes", 0, 1, NOON.timestamp()))
    again = svc.calls.start("CA" + uuid.uuid4().hex, {"From": CALLER, "To": "+14155550100"},
                            NOON)
    assert "Welcome back to Acme Outfitters." in again


def test_a_retried_voice_gets_the_stored_answer_and_nothing_twice(
        app: Flask, redis: redis_lib.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = outcomes(app, monkeypatch)
    sid = "CA" + uuid.uuid4().hex
    first = play(app, sid, "+14155550100", STEPS[:1])
    before = recorded(redis, sid)
    assert play(app, sid, "+14155550100", STEPS[:1]) == first
    assert seen == [Outcome.RECORDED, Outcome.LOCKED_PATH]  # the retry took the locked path
    assert recorded(redis, sid) == before
    assert [k for k, _ in before[4]].count("call_started") == 1


@pytest.fixture
def one_trip(app: Flask) -> OneTripStart:
    one_trip = app.extensions["ivr"].calls.one_trip
    assert isinstance(one_trip, OneTripStart)
    return one_trip


def a_step(app: Flask, sid: str) -> tuple[StoredCall, str, list[Any]]:
    step = app.extensions["ivr"].calls._first_step(sid, {"From": CALLER, "To": "+14155550100"},
                                                   NOON, {}, {})
    assert step is not None
    return step


@pytest.mark.parametrize("already", ["lock", "state", "answer"])
def test_a_call_with_a_lock_holder_state_or_answer_is_left_to_the_locked_path(
        app: Flask, redis: redis_lib.Redis, one_trip: OneTripStart, already: str) -> None:
    sid = "CA" + uuid.uuid4().hex
    key = {"lock": keys.call(sid) + ":lock", "state": keys.call(sid),
           "answer": keys.call_responses(sid)}[already]
    if already == "lock":
        redis.set(key, "another request")
    else:
        redis.hset(key, "0" if already == "answer" else "seq", "1")
    before = {k: redis.dump(k) for k in redis.keys("*")}
    stored, twiml, events = a_step(app, sid)
    guess = one_trip.guess(CALLER, NOON)
    assert one_trip.record(sid, stored, twiml, events, guess) is Outcome.LOCKED_PATH
    assert {k: redis.dump(k) for k in redis.keys("*")} == before  # nothing written


def test_a_wrong_guess_writes_nothing_and_brings_the_hashes_back(
        app: Flask, redis: redis_lib.Redis, one_trip: OneTripStart) -> None:
    set_flag(redis, "storm_mode", "on")
    write_summary(redis, CALLER, {"calls": "3"})
    sid = "CA" + uuid.uuid4().hex
    stored, twiml, events = a_step(app, sid)
    guess = one_trip.guess(CALLER, NOON)
    assert (guess.flags, guess.summary_items) == ({}, ())
    assert one_trip.record(sid, stored, twiml, events, guess) is Outcome.GUESSED_WRONG
    assert not redis.exists(keys.call(sid), keys.call_responses(sid))
    assert events_of(redis, sid) == []
    again = one_trip.guess(CALLER, NOON)
    assert again.flags == {"storm_mode": "on"}
    assert again.summary_items == (b"calls", b"3")
    assert one_trip.record(sid, stored, twiml, events, again) is Outcome.RECORDED
    assert redis.hget(keys.call_responses(sid), "0").decode() == twiml
    assert redis.hget(keys.call(sid), "state") == orjson.dumps(stored.state.to_dict())


def test_a_damaged_hash_takes_the_locked_path(app: Flask, redis: redis_lib.Redis,
                                              one_trip: OneTripStart) -> None:
    """The summary's key holds the wrong type: the locked path answers as a first-time caller
    (tests/web/test_caller_history_webhook.py), so the one trip steps aside."""
    redis.set(keys.caller_summary(CALLER), "not a hash")
    sid = "CA" + uuid.uuid4().hex
    stored, twiml, events = a_step(app, sid)
    guess = one_trip.guess(CALLER, NOON)
    assert one_trip.record(sid, stored, twiml, events, guess) is Outcome.LOCKED_PATH
    assert not redis.exists(keys.call(sid))
    start = app.extensions["ivr"].calls.start(sid, {"From": CALLER, "To": "+14155550100"}, NOON)
    assert "Thank you for calling Acme Outfitters." in start


def test_the_switch_is_read_from_the_environment() -> None:
    from ivr.config.settings import from_env

    assert from_env({}).one_trip_start is True
    assert from_env({"IVR_ONE_TRIP_START": "0"}).one_trip_start is False
