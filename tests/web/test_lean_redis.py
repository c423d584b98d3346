"""The call scripts' shortcut (ivr/store/lean_script.py) in the app: no connection outlives
its request, whichever way the request went (the webhook lane or Flask), and the switch
IVR_LEAN_REDIS=0 gives the very same answers, state and events the regular way (issue 12)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from ivr.flows.publishing import CONVERGE_DUE
from ivr.store import keys
from tests.web.conftest import BASE, sign, standard_params, web_settings

STEPS = [("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}),
         ("/voice/next?seq=2", {"Digits": "3"}), ("/voice/next?seq=3", {"Digits": "1"}),
         ("/voice/status", {"CallStatus": "completed", "CallDuration": "42"})]

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def in_use(pool: Any) -> int:
    """Connections taken from the app's pool and not given back (blocking or plain pool)."""
    if hasattr(pool, "_in_use_connections"):
        return len(pool._in_use_connections)
    return len(pool._connections) - sum(1 for c in list(pool.pool.queue) if c is not None)


def play(app: Flask, call_sid: str, after_each: Any = None) -> list[str]:
    answers = []
    for path, extra in STEPS:
        params = standard_params(call_sid, **extra)
        resp = app.test_client().post(path, data=params,
                                      headers={"X-Twilio-Signature": sign(BASE + path, params)})
        assert resp.status_code == 200
        answers.append(resp.get_data(as_text=True).replace(call_sid, "SID"))
        if after_each is not None:
            after_each()
    return answers


@pytest.mark.parametrize("through_lane", [True, False])
@pytest.mark.parametrize("keep", [False, True])
def test_no_connection_is_held_after_a_request(app: Flask, through_lane: bool, keep: bool):
    """Before, the request's thread kept its connection after the request; under a server
    that starts a thread per request, each dead thread's connection was lost to the pool.
    With IVR_LEAN_REDIS_KEEP=1 the thread keeps one for its next request (one at most, and
    a thread that ends hands it back: tests/store/test_lean_script.py)."""
    held = app.extensions["ivr"].calls.store.held
    assert held.keep is app.config["IVR"].lean_redis_keep
    assert held.blocking is app.config["IVR"].lean_redis_blocking is True
    held.keep = keep
    pool = app.extensions["ivr"].redis.connection_pool
    seen: list[int] = []

    def after() -> None:
        seen.append(in_use(pool))
        app.extensions[CONVERGE_DUE] = float("inf") if through_lane else 0.0

    after()
    seen.clear()
    lane = app.wsgi_app
    served = lane.served
    play(app, "CA" + uuid.uuid4().hex, after_each=after)
    assert (lane.served - served == len(STEPS)) is through_lane
    assert seen == [int(keep)] * len(STEPS)


def events_of(redis, call_sid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(f[b"kind"].decode(), json.loads(f[b"data"]))
            for _, f in redis.xrange(keys.events_stream()) if f[b"call"].decode() == call_sid]


def spy_on(held: Any, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call script got a held connection (the shortcut) or went the regular way."""
    taken: list[bool] = []
    get = held.get

    def spied() -> Any:
        conn = get()
        taken.append(conn is not None)
        return conn

    monkeypatch.setattr(held, "get", spied)
    return taken


def test_lean_and_regular_give_the_same_answers_state_and_events(
        redis_url: str, redis, tmp_path, monkeypatch: pytest.MonkeyPatch):
    from ivr import create_app

    results = {}
    for lean in (True, False):
        app = create_app(web_settings(redis_url, tmp_path, instance_dir=tmp_path / f"i{lean}",
                                      lean_redis=lean))
        app.extensions["ivr"].clock = lambda: NOON  # the state records step times
        held = app.extensions["ivr"].calls.store.held
        taken = spy_on(held, monkeypatch)
        sid = f"CA{int(lean):032d}"
        answers = play(app, sid)
        state = redis.hgetall(keys.call(sid))
        results[lean] = (answers, events_of(redis, sid),
                         {k: v.replace(sid.encode(), b"SID") for k, v in state.items()})
        assert any(taken) is lean  # the shortcut was taken only when switched on
    assert results[True] == results[False]
    assert results[True][0][0].startswith("<?xml")


def test_the_switch_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    from ivr.config.settings import from_env
    from ivr.domain.errors import ConfigError

    assert from_env({}).lean_redis is True
    assert from_env({"IVR_LEAN_REDIS": "0"}).lean_redis is False
    with pytest.raises(ConfigError, match="IVR_LEAN_REDIS='maybe'"):
        from_env({"IVR_LEAN_REDIS": "maybe"})
