"""The admin's flow graph coloured by traffic and drop-off (issue 15), in a real headless
Chromium: the demo's shop flow, with a week of its callers' steps written by the real event
writer, shows the busiest nodes darker, a red border where many callers hang up, and the
numbers of each node on hover (an SVG <title>, also the node's accessible name)."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy.orm import sessionmaker

from ivr.store.events import publish_event
from queue_worker.outcomes import drain_events
from tests.browser.conftest import serious_accessibility_problems
from tests.browser.test_admin_flows import ADMIN, PASSWORD, live_app, page  # noqa: F401

pytestmark = pytest.mark.browser
PATH = ["greet", "welcome", "choose_language", "main_menu"]
# (how many callers, the nodes after the main menu): 4 of 10 hang up at the menu
CALLERS = [(4, []), (3, ["opening_hours", "goodbye"]), (3, ["ask_order"])]


def shop_callers(app: Flask) -> None:
    """Ten calls to the shop flow an hour ago, through the real event stream and writer."""
    from dashboards.auth import user_engine

    svc = app.extensions["ivr"]
    at, n = time.time() - 3600, 0
    for count, rest in CALLERS:
        for _ in range(count):
            sid = f"CA{n:032d}"
            n += 1
            publish_event(svc.redis, "call_started", sid, {"caller": "+14155550100",
                                                           "dialed": "+1", "flow": "shop"}, at)
            publish_event(svc.redis, "nodes_visited", sid, {"nodes": PATH + rest}, at + 1)
            publish_event(svc.redis, "call_ended", sid, {"duration": 30.0}, at + 30)
    with app.app_context():
        assert drain_events(svc.redis, sessionmaker(user_engine())).failed == 0


def sign_in(tab, base: str, path: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}{path}")
    tab.fill("#username", ADMIN)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{path}")


def test_the_shop_graph_shows_traffic_and_where_callers_hang_up(live_app, page):  # noqa: F811
    app, base = live_app
    shop_callers(app)
    sign_in(page, base, "/admin/flows/shop")
    menu = page.locator('#graph g.node[data-node="main_menu"]')
    menu.wait_for()
    page.wait_for_function("() => document.querySelector("
                           "'#graph g.node[data-node=\"main_menu\"]').hasAttribute('data-entered')",
                           timeout=15000)
    assert (menu.get_attribute("data-entered"), menu.get_attribute("data-drop-rate")) == (
        "10", "0.4")
    assert menu.locator("rect").get_attribute("stroke") == "#b00020"  # 40 % hang up: red
    title = menu.locator("title").text_content()
    assert title.startswith("main_menu: 10 entered (10 callers), 4 hung up here (40 %)")
    assert "next: ask_order 3, opening_hours 3" in title
    assert menu.get_attribute("aria-label") == title
    hours = page.locator('#graph g.node[data-node="opening_hours"]')
    assert hours.get_attribute("data-drop-rate") == "0"
    assert hours.locator("rect").get_attribute("stroke") == "#1a4d8f"  # nobody left there
    # traffic: the menu (10 callers) is drawn darker than opening hours (3)
    fills = [page.locator(f'#graph g.node[data-node="{n}"] rect').get_attribute("fill")
             for n in ("main_menu", "opening_hours")]
    darkness = [sum(int(c) for c in f[4:-1].split(",")) for f in fills]
    assert darkness[0] < darkness[1]
    quiet = page.locator('#graph g.node[data-node="to_billing"]')  # nobody went there
    assert quiet.get_attribute("data-entered") is None
    assert quiet.locator("title").count() == 0
    menu.hover()  # the numbers are the node's tooltip
    assert menu.locator("title").count() == 1
    assert serious_accessibility_problems(page) == []
