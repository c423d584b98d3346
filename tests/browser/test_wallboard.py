"""The wallboard in a real headless Chromium over HTTP and a real Redis: a caller joining and
leaving the support queue shows on the board within a couple of seconds, without a reload."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from tests.browser.test_admin_flows import ADMIN, PASSWORD, SHOTS, live_app, page  # noqa: F401

pytestmark = pytest.mark.browser


def sign_in(tab, base: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}/wallboard")
    tab.fill("#username", ADMIN)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/wallboard")


def waiting_shows(tab, queue: str, count: int) -> None:  # type: ignore[no-untyped-def]
    tab.wait_for_selector(f'article[data-queue="{queue}"] [data-field="waiting"]')
    tab.wait_for_function(
        "([q, n]) => document.querySelector(`article[data-queue=\"${q}\"] "
        "[data-field=\"waiting\"]`).textContent === String(n)", arg=[queue, count],
        timeout=4000)


def test_wallboard_moves_when_a_caller_joins_and_leaves(live_app, page):  # noqa: F811
    app, base = live_app
    engine = app.extensions["ivr"].queue_engine
    sign_in(page, base)
    waiting_shows(page, "support", 0)
    assert page.locator("#status").text_content().startswith("live")
    engine.join("CA" + "1" * 32, "support", time.time())
    started = time.monotonic()
    waiting_shows(page, "support", 1)
    assert time.monotonic() - started < 3  # within 2 s of the event, plus the browser
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "wallboard.png"), full_page=True)
    engine.leave("CA" + "1" * 32, "hangup", time.time())
    waiting_shows(page, "support", 0)
    page.goto(f"{base}/wallboard?tv=1")
    waiting_shows(page, "support", 0)
    assert "tv" in page.evaluate("document.body.className")
    page.screenshot(path=str(SHOTS / "wallboard-tv.png"), full_page=True)


def test_wallboard_needs_a_supervisor(live_app):  # noqa: F811
    app: Flask = live_app[0]
    client = app.test_client()
    assert client.get("/wallboard").status_code == 302
    assert client.get("/wallboard/events").status_code == 302
