"""The staffing advisor on the wallboard's queue cards, in a real headless Chromium with the
stream service beside the app: support's card says how many more agents the target needs, and
the sentence and figures change, pushed by the stream, when an agent goes on a break. The card
also shows today's share of answered callers inside the wait range they were told."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from ivr.store import models as m
from ivr.store.events import publish_event
from ivr.store.hold_stats import HoldStatsStore
from queue_worker.outcomes import drain_events
from tests.browser.test_admin_flows import live_app as flask_live_app  # noqa: F401
from tests.browser.test_admin_flows import page  # noqa: F401
from tests.browser.test_wallboard import (  # noqa: F401
    live_app,
    minutes_into_business_day,
    sign_in,
    waiting_shows,
)

pytestmark = pytest.mark.browser
ADVICE = 'article[data-queue="support"] [data-field="staffing"]'


def busy_support(app: Flask, calls: int = 60) -> None:
    """`calls` support callers over the last hour in the outcome database, 4 minutes of
    handle time and 10 minutes of patience learned: more than three agents can serve."""
    from dashboards.auth import user_engine

    now = datetime.now(UTC)
    at = [now - timedelta(minutes=k + 0.5) for k in range(calls)]
    with app.app_context(), user_engine().begin() as conn:
        conn.execute(insert(m.CallRow), [{"call_sid": f"CA{i:032d}", "started_at": t}
                                      for i, t in enumerate(at)])
        conn.execute(insert(m.QueueVisitRow), [{"call_sid": f"CA{i:032d}", "seq": 0,
                                             "queue": "support", "joined_at": t}
                                            for i, t in enumerate(at)])
    svc = app.extensions["ivr"]
    HoldStatsStore(svc.redis).update("support", lambda s: replace(
        s, handle_mean=240.0, abandon_weight=4.0, wait_exposure=2400.0))


def answered_with_ranges(app: Flask) -> None:
    """Two support callers answered 5 minutes ago: one inside the range told, one not."""
    from dashboards.auth import user_engine

    if minutes_into_business_day(app) < 6:
        pytest.skip("the business day began minutes ago: these callers would be yesterday's")
    svc = app.extensions["ivr"]
    at = time.time() - 300
    for i, (wait, low, high) in enumerate(((20.0, 10.0, 40.0), (90.0, 10.0, 50.0))):
        sid = "CB" + str(i) * 32
        publish_event(svc.redis, "call_started", sid, {"caller": "+14155550100",
                                                       "dialed": "+1", "flow": "shop"}, at)
        publish_event(svc.redis, "queue_joined", sid, {"queue": "support"}, at)
        publish_event(svc.redis, "agent_answered", sid, {"queue": "support", "agent": "alice"},
                      at + wait)
        publish_event(svc.redis, "queue_left", sid, {
            "queue": "support", "result": "bridged", "wait": wait, "range_low": low,
            "range_high": high, "in_range": low <= wait <= high}, at + wait)
    with app.app_context():
        assert drain_events(svc.redis, sessionmaker(user_engine())).failed == 0


def test_the_card_advice_moves_when_an_agent_goes_on_break(live_app, page):  # noqa: F811
    app, base = live_app
    engine = app.extensions["ivr"].queue_engine
    for agent in ("alice", "bob", "dan"):
        engine.agent_presence(agent, "available", time.time())
    busy_support(app)
    answered_with_ranges(app)
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    sentence = page.locator(f"{ADVICE} .advice-sentence")
    sentence.wait_for(timeout=15000)
    before = sentence.text_content()
    assert before.startswith("you need ")
    assert before.endswith(" more agents on support to reach 80 % in 20 s")
    assert page.locator(f"{ADVICE} .note").text_content().startswith("With 3 working: ")
    ranges = page.locator('article[data-queue="support"] [data-field="ranges"]')
    assert ranges.text_content() == "50 % of 2, ranges 35 s wide"
    engine.agent_presence("bob", "break", time.time())
    page.wait_for_function(
        "([sel, old]) => { const s = document.querySelector(sel + ' .advice-sentence');"
        " return s && s.textContent !== old; }", arg=[ADVICE, before], timeout=15000)
    after = sentence.text_content()
    more = [int(s.split()[2]) for s in (before, after)]
    assert more[1] == more[0] + 1  # one agent fewer working: one more needed
    assert page.locator(f"{ADVICE} .note").text_content().startswith("With 2 working: ")
