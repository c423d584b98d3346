"""Every page, signed in as an admin, checked with axe-core (WCAG 2.1 A/AA and best-practice
rules): no serious or critical violations (labels, names, contrast, keyboard access). Pages
are opened fresh and not typed into: after axe has run, Chromium reports the flow editor's
overlaid textarea as not editable to Playwright, so the interactive tests run it last.
Also the phone-sized screenshots of the pages the other tests do not take on a phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, serious_accessibility_problems
from tests.browser.test_admin_flows import ADMIN, PASSWORD

# the wallboard's events come from the stream service: the app with one beside it
from tests.browser.test_wallboard import flask_live_app, live_app  # noqa: F401

pytestmark = pytest.mark.browser
PAGES = ("/admin/flows", "/admin/flows/shop",
         "/admin/operations", "/admin/prompts", "/admin/agents", "/wallboard",
         "/wallboard?tv=1", "/agent",
         "/tasks")
READY = {"/wallboard": "article[data-queue]", "/wallboard?tv=1": "article[data-queue]",
         "/tasks": "#count:not(:has-text('Loading'))",
         "/admin/flows/shop": "#status.ok"}


def test_every_page_passes_axe_and_fits_a_phone(live_app, browser):  # noqa: F811
    app, base = live_app
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)  # the editor's check is slow on a loaded machine
    tab = context.new_page()
    tab.goto(f"{base}/login")
    problems = {"/login": serious_accessibility_problems(tab)}
    tab.fill("#username", ADMIN)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/admin/flows")  # "/" takes an admin to the flows page
    for path in PAGES:
        answer = tab.goto(f"{base}{path}")
        assert answer is not None
        assert answer.status == 200, path
        if path in READY:
            tab.wait_for_selector(READY[path])
        problems[path] = serious_accessibility_problems(tab)
    assert {p: v for p, v in problems.items() if v} == {}
    context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                storage_state=None)
    tab = phone.new_page()
    tab.goto(f"{base}/login?next=/agent")
    screenshot(tab, "login-phone")
    tab.fill("#username", ADMIN)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/agent")
    screenshot(tab, "agent-console-phone")
    tab.goto(f"{base}/admin/operations")
    screenshot(tab, "admin-operations-phone")
    phone.close()
