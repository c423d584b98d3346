"""The staffing advisor on the wallboard's queue cards, in a real headless Chromium with the
stream service beside the app: support's card says how many more agents the target needs, and
the sentence and figures change, pushed by the stream, when an agent goes on a break."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import insert

from ivr.store import models as m
from ivr.store.hold_stats import HoldStatsStore
from tests.browser.test_admin_flows import live_app as flask_live_app  # noqa: F401
from tests.browser.test_admin_flows import page  # noqa: F401
from tests.browser.test_wallboard import live_app, sign_in, waiting_shows  # noqa: F401

pytestmark = pytest.mark.browser
ADVICE = 'article[data-queue="support"] [data-field="staffing"]'


def busy_support(app: Flask, calls: int = 60) -> None:
    """`calls` support callers over the last hour in the outcome database, 4 minutes of
    handle time and 10 minutes of patience learned: more than three agents can serve."""
    from dashboards.auth import user_engine

    now = datetime.now(UTC)
    at = [now - timedelta(minutes=k + 0.5) for k in range(calls)]
    with app.app_context(), user_engine().begin() as conn:
        conn.execute(insert(m.Call), [{"call_sid": f"CA{i:032d}", "started_at": t}
                                      for i, t in enumerate(at)])
        conn.execute(insert(m.QueueVisit), [{"call_sid": f"CA{i:032d}", "seq": 0,
                                             "queue": "support", "joined_at": t}
                                            for i, t in enumerate(at)])
    svc = app.extensions["ivr"]
    HoldStatsStore(svc.redis).update("support", lambda s: replace(
        s, handle_mean=240.0, abandon_weight=4.0, wait_exposure=2400.0))


def test_the_card_advice_moves_when_an_agent_goes_on_break(live_app, page):  # noqa: F811
    app, base = live_app
    engine = app.extensions["ivr"].queue_engine
    for agent in ("alice", "bob", "dan"):
        engine.agent_presence(agent, "available", time.time())
    busy_support(app)
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    sentence = page.locator(f"{ADVICE} .advice-sentence")
    sentence.wait_for(timeout=15000)
    before = sentence.text_content()
    assert before.startswith("you need ")
    assert before.endswith(" more agents on support to reach 80 % in 20 s")
    assert page.locator(f"{ADVICE} .note").text_content().startswith("With 3 working: ")
    engine.agent_presence("bob", "break", time.time())
    page.wait_for_function(
        "([sel, old]) => { const s = document.querySelector(sel + ' .advice-sentence');"
        " return s && s.textContent !== old; }", arg=[ADVICE, before], timeout=15000)
    after = sentence.text_content()
    more = [int(s.split()[2]) for s in (before, after)]
    assert more[1] == more[0] + 1  # one agent fewer working: one more needed
    assert page.locator(f"{ADVICE} .note").text_content().startswith("With 2 working: ")
