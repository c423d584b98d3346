"""At call start the webhook reads the caller's summary (one HGETALL) and the shop flow greets
a returning caller, puts an unhappy one ahead of the line, and treats an unknown number, or a
history read that fails, as a first-time caller."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis as redis_lib
from flask import Flask

from ivr.domain.caller_history import summary_fields
from ivr.store import keys
from ivr.store.caller_summary import write_summary
from tests.web.conftest import standard_params

NOW = datetime.now(UTC)
CALLER = "+14155550142"


def start(app: Flask, caller: str = CALLER) -> str:
    svc = app.extensions["ivr"]
    return svc.calls.start("CA" + uuid.uuid4().hex, {"From": caller, "To": "+14155550100"}, NOW)


def test_first_time_caller(app: Flask) -> None:
    assert "Thank you for calling Acme Outfitters." in start(app)


def test_returning_caller_is_welcomed_back(app: Flask, redis: redis_lib.Redis) -> None:
    write_summary(redis, "4155550142", summary_fields(
        [NOW.timestamp() - 7200], "answered", 5, "yes", 0, 1, NOW.timestamp()))
    twiml = start(app)
    assert "Welcome back to Acme Outfitters." in twiml
    assert "ahead of the line" not in twiml


def test_unhappy_caller_is_put_ahead_of_the_line(app: Flask, redis: redis_lib.Redis,
                                                 post) -> None:  # type: ignore[no-untyped-def]
    write_summary(redis, CALLER, summary_fields(
        [NOW.timestamp() - 600], "answered", 1, "no", 0, 1, NOW.timestamp()))
    sid = "CA" + uuid.uuid4().hex
    answer = post("/voice", standard_params(sid, From=CALLER, To="+14155550100"))
    assert answer.status_code == 200
    assert b"ahead of the line" in answer.data


def test_a_failing_history_read_still_answers_the_call(app: Flask,
                                                      redis: redis_lib.Redis) -> None:
    """The history read fails on its own (its key holds the wrong type, as a damaged or
    foreign key would): the caller is treated as first-time and the call goes on."""
    redis.set(keys.caller_summary(CALLER), "not a hash")
    assert "Thank you for calling Acme Outfitters." in start(app)


@pytest.mark.flushes_scripts
def test_call_start_survives_a_redis_that_forgot_its_scripts(app: Flask,
                                                             redis: redis_lib.Redis) -> None:
    """The call-start read is a pipeline with EVALSHA; after SCRIPT FLUSH (a Redis restarted
    without persistence) it loads the script again instead of failing the call."""
    write_summary(redis, "4155550142", summary_fields(
        [NOW.timestamp() - 7200], "answered", 5, "yes", 0, 1, NOW.timestamp()))
    redis.script_flush()
    assert "Welcome back to Acme Outfitters." in start(app)
