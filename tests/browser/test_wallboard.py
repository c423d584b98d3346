"""The wallboard in a real headless Chromium over HTTP and a real Redis: a freshly opened
board draws the last hour from the database; a caller joining shows within a couple of
seconds and, past the queue's threshold, raises an alert in the live region; the page
reconnects by itself after the stream service goes away; the agents table sorts; a
phone-sized screen; no
serious axe-core accessibility problems; text from outside is shown as text.

The page is served by the Flask app and its events by the stream service (ivr/live/) on
another port, as `ivr serve` runs them: the browser sends the session cookie across
(`withCredentials`) and the service answers CORS for the page's origin."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy.orm import sessionmaker

from ivr.domain.queueing import Agent, Presence
from ivr.store.events import publish_event
from queue_worker.outcomes import drain_events
from tests.browser.conftest import screenshot, serious_accessibility_problems
from tests.browser.test_admin_flows import ADMIN, PASSWORD, page  # noqa: F401
from tests.browser.test_admin_flows import live_app as flask_live_app  # noqa: F401
from tests.stream_service import StreamThread, serve_pages_with_streams

pytestmark = pytest.mark.browser
EVIL = "<img src=x onerror=alert(1)>"
SLOW_TODAY = "support: service level 50 % today (alert below 60 %)"


@pytest.fixture
def live_app(flask_live_app):  # noqa: F811
    """The app on a real HTTP port, with the stream service beside it (kept in
    `app.extensions["test_streams"]`, so a test can stop and restart it)."""
    app, base = flask_live_app
    streams = app.extensions["test_streams"] = serve_pages_with_streams(app, base)
    try:
        yield app, base
    finally:
        streams.stop()


def sign_in(tab, base: str, path: str = "/wallboard") -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}{path}")
    tab.fill("#username", ADMIN)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{path}")


def waiting_shows(tab, queue: str, count: int,  # type: ignore[no-untyped-def]
                  timeout: int = 15000) -> None:
    """The stream pushes a change within about a second; the timeout leaves room for a busy
    CI machine (speed is the benchmarks' business, not this test's)."""
    tab.wait_for_selector(f'article[data-queue="{queue}"] [data-field="waiting"]')
    tab.wait_for_function(
        "([q, n]) => document.querySelector(`article[data-queue=\"${q}\"] "
        "[data-field=\"waiting\"]`).textContent === String(n)", arg=[queue, count],
        timeout=timeout)


def earlier_callers(app: Flask, minutes_ago: int) -> float:
    """Two support callers who waited together `minutes_ago` minutes ago, folded into the
    app's database by the real writer. Returns the start of that minute."""
    from dashboards.auth import user_engine

    svc = app.extensions["ivr"]
    t = time.time() - minutes_ago * 60
    t -= t % 60
    for sid, wait in (("CA" + "a" * 32, 10.0), ("CA" + "b" * 32, 30.0)):
        publish_event(svc.redis, "call_started", sid, {"caller": "+14155550100",
                                                       "dialed": "+1", "flow": "shop"}, t)
        publish_event(svc.redis, "queue_joined", sid, {"queue": "support"}, t + 1)
        publish_event(svc.redis, "agent_answered", sid, {"queue": "support", "agent": "alice"},
                      t + 1 + wait)
        publish_event(svc.redis, "queue_left", sid, {"queue": "support", "result": "bridged",
                                                     "wait": wait}, t + 1 + wait)
        publish_event(svc.redis, "call_ended", sid, {"duration": 100.0}, t + 100)
    with app.app_context():
        drain_events(svc.redis, sessionmaker(user_engine()))
    return t


def minutes_into_business_day(app: Flask) -> int:
    """30, or fewer when the business day (queues.yaml `reporting.timezone`) began less than
    half an hour ago, so the earlier callers count as today's."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ivr.config.reporting import load_report_settings

    tz = load_report_settings(app.config["IVR"].queues_file).timezone
    local = datetime.now(ZoneInfo(tz))
    since_midnight = local.hour * 60 + local.minute
    if since_midnight < 3:
        pytest.skip("the business day began a moment ago; today's figures are still empty")
    return min(30, since_midnight - 2)


def test_wallboard_history_alerts_and_live_updates(live_app, page):  # noqa: F811
    app, base = live_app
    engine = app.extensions["ivr"].queue_engine
    engine.agents.upsert(Agent("mallory", EVIL, "client:m", {"support": 1},
                               Presence.OFFLINE), time.time())
    minute = earlier_callers(app, minutes_into_business_day(app))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    assert page.locator("#status").text_content().startswith("live")
    # the last hour is there at once, from the database: 2 waiting at once 30 minutes ago
    cell = page.locator(f'#history-table tr[data-minute="{int(minute)}"] '
                        'td[data-queue="support"][data-field="waiting"]')
    assert cell.text_content() == "2"
    assert page.locator("#chart-waiting canvas").count() == 1
    assert page.locator("#chart-sl canvas").count() == 1
    alice = page.locator('#agents tr[data-agent="alice"] td')
    handled, aht = alice.nth(3).text_content(), alice.nth(4).text_content()
    assert (handled, aht) == ("2", "1 min 19 s")  # talked 89 s and 69 s
    assert page.locator('#agents tr[data-agent="mallory"] td').first.text_content() == EVIL
    # one of today's two answers within support's 20 s target: 50 %, below the 60 % alert
    assert page.locator("#alerts li").all_text_contents() == [SLOW_TODAY]
    assert "ALERT" in page.locator('article[data-queue="support"] '
                                   '[data-field="service_level"]').text_content()

    engine.agent_presence("dan", "available", time.time())
    engine.join("CA" + "1" * 32, "support", time.time() - 200)  # past support's 180 s alert
    waiting_shows(page, "support", 1, timeout=10000)  # pushed, not waiting for a page reload
    alert = page.locator("#alerts li").filter(has_text="support: a caller has waited 3 min")
    alert.wait_for(timeout=10000)
    assert page.get_attribute("#alerts", "aria-live") == "assertive"
    assert "alert" in page.get_attribute('article[data-queue="support"]', "class")
    assert "ALERT" in page.locator('article[data-queue="support"] '
                                   '[data-field="longest_wait"]').text_content()
    screenshot(page, "wallboard")
    assert serious_accessibility_problems(page) == []
    assert dialogs == []
    engine.leave("CA" + "1" * 32, "hangup", time.time())
    waiting_shows(page, "support", 0)
    assert page.locator("#alerts li").all_text_contents() == [SLOW_TODAY]


def test_wallboard_reconnects_after_the_stream_service_goes_away(live_app, page):  # noqa: F811
    app, base = live_app
    streams: StreamThread = app.extensions["test_streams"]
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    streams.stop()
    page.wait_for_function("() => document.getElementById('status').textContent"  # a function:
                           ".startsWith('reconnecting')", timeout=15000)  # an expression is eval'd
    assert "down" in page.get_attribute("#status", "class")
    app.extensions["ivr"].queue_engine.join("CA" + "2" * 32, "support", time.time())
    streams.start()  # same port: the page's EventSource finds it again by itself
    waiting_shows(page, "support", 1)
    assert page.locator("#status").text_content().startswith("live")


def test_wallboard_desk_sorts_agents_and_works_on_a_phone(live_app, page, browser):  # noqa: F811
    """The desk view keeps its detail; the per-agent table sorts by any column (the wall
    screen, ?tv=1, is tests/browser/test_wallboard_tv.py)."""
    app, base = live_app
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    assert not page.evaluate("document.body.classList.contains('dark')")  # light at a desk
    names = ("() => [...document.querySelectorAll('#agents tr td:first-child')]"
             ".map(t => t.textContent)")
    shown = page.evaluate(names)
    assert len(shown) == 4
    assert shown == sorted(shown)
    head = page.locator('#agents-table th[data-sort="name"]')
    head.locator("button").click()  # again on the sorted column: the other way
    assert page.evaluate(names) == sorted(shown, reverse=True)
    assert head.get_attribute("aria-sort") == "descending"
    page.locator('#agents-table th[data-sort="state"] button').click()
    assert page.get_attribute('#agents-table th[data-sort="state"]', "aria-sort") == "ascending"
    assert head.get_attribute("aria-sort") == "none"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    tab = phone.new_page()
    sign_in(tab, base)
    waiting_shows(tab, "support", 0)
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(tab, "wallboard-phone")
    phone.close()


def test_wallboard_needs_a_supervisor(live_app):  # noqa: F811
    app: Flask = live_app[0]
    client = app.test_client()
    assert client.get("/wallboard").status_code == 302
    assert client.get("/wallboard/events").status_code == 302


def floor_day(app: Flask) -> None:
    """Today for Alice on the agent floor, folded by the real writer: one support call with
    a 20 s hold inside 60 s in the conference, warm-transferred to Dan, 10 s of wrap-up; one
    plain call of 30 s talk and 20 s wrap-up. AHT (40 + 20 + 10 + 30 + 20) / 2 = 60 s, mean
    hold 10 s, after-call work 15 s, transfer rate 50 % (hers and the support queue's)."""
    from dashboards.auth import user_engine

    svc = app.extensions["ivr"]
    now = time.time() - 60 * min(5, minutes_into_business_day(app))
    warm = {"agent": "alice", "to_type": "agent", "to": "dan", "mode": "warm"}
    calls = {
        "CA" + "1" * 32: [("hold_started", 20, {"agent": "alice"}),
                          ("hold_ended", 40, {"agent": "alice", "seconds": 20.0}),
                          ("transfer", 45, {**warm, "result": "started"}),
                          ("transfer", 50, {**warm, "result": "completed"}),
                          ("agent_left", 70, {"agent": "alice", "talk": 60.0, "hold": 20.0}),
                          ("call_ended", 90, {}),
                          ("wrap_up", 80, {"agent": "alice", "seconds": 10.0,
                                           "ended": "timeout"})],
        "CA" + "2" * 32: [("call_ended", 40, {}),
                          ("wrap_up", 60, {"agent": "alice", "seconds": 20.0,
                                           "ended": "early"})],
    }
    for sid, steps in calls.items():
        publish_event(svc.redis, "call_started", sid, {"caller": "+14155550100",
                                                       "dialed": "+1", "flow": "shop"}, now)
        publish_event(svc.redis, "queue_joined", sid, {"queue": "support"}, now)
        publish_event(svc.redis, "agent_answered", sid, {"queue": "support", "agent": "alice"},
                      now + 10)
        publish_event(svc.redis, "queue_left", sid, {"queue": "support", "result": "bridged",
                                                     "wait": 10.0}, now + 10)
        for kind, t, data in steps:
            publish_event(svc.redis, kind, sid, data, now + t)
    with app.app_context():
        assert drain_events(svc.redis, sessionmaker(user_engine())).failed == 0


def hold_now(app: Flask, agent: str, seconds: float) -> None:
    """`agent` on a support call whose caller they put on hold `seconds` ago (the floor
    state the console's hold writes, ivr/store/floor.py)."""
    from ivr.domain.floor import Leg
    from ivr.store.floor import FloorStore

    svc, call, now = app.extensions["ivr"], "CA" + "3" * 32, time.time()
    store = FloorStore(svc.redis)
    store.create(call, "support", conference="CF" + "3" * 32)
    store.add_leg(call, Leg(call, "caller", "caller", "joined", held=True, since=now - 90))
    store.add_leg(call, Leg("CA" + "4" * 32, "agent", agent, "joined", since=now - 80))
    store.set(call, held_since=repr(now - seconds), hold_count="1")
    assert svc.queue_engine.agents.floor_joined(agent, call, now)


def test_wallboard_shows_the_floor_holds_transfers_and_after_call_work(live_app, page):  # noqa: F811
    """The agent floor's figures on the page, not only in its JSON: Alice's caller on hold
    now (counting up), her mean hold, after-call work and transfer rate today; the support
    queue's callers on hold now, AHT, mean hold and transfer rate today."""
    app, base = live_app
    floor_day(app)
    hold_now(app, "alice", 42)
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    alice = page.locator('#agents tr[data-agent="alice"]')
    held = alice.locator('[data-field="on_hold"]')
    held.wait_for()
    assert held.text_content().startswith("caller on hold 0:4")
    assert alice.locator('[data-field="state"]').text_content().startswith("on call")
    figures = {f: alice.locator(f'[data-field="{f}"]').text_content()
               for f in ("hold", "after_call", "transfer_rate")}
    assert figures == {"hold": "10 s", "after_call": "15 s", "transfer_rate": "50 %"}
    assert alice.locator("td").nth(4).text_content() == "1 min 0 s"  # AHT
    support = page.locator('article[data-queue="support"]')
    shown = {f: support.locator(f'[data-field="{f}"]').text_content()
             for f in ("on_hold", "aht", "hold", "transfer_rate")}
    assert shown == {"on_hold": "1", "aht": "1 min 0 s", "hold": "10 s", "transfer_rate": "50 %"}
    page.wait_for_function(  # the hold's time counts up with the boards the stream pushes
        "() => /on hold 0:(4[5-9]|5\\d)/.test(document.querySelector("
        "'#agents tr[data-agent=\"alice\"] [data-field=\"on_hold\"]').textContent)",
        timeout=20000)
    page.locator('#agents-table th[data-sort="transfer_rate"] button').click()
    assert page.get_attribute('#agents-table th[data-sort="transfer_rate"]',
                              "aria-sort") == "ascending"
    screenshot(page, "wallboard-floor")
    assert serious_accessibility_problems(page) == []
