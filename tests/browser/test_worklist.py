"""The follow-up worklist in Chromium over the real task API: an agent filters by team and
overdue, takes a task and closes it with a disposition; a supervisor gives one to another
agent. Reasons, notes and voicemail transcripts from callers are shown as text, never run.
No serious axe-core problems; desktop and phone screenshots."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from ivr.commands.user import command as user_command
from tests.browser import seed
from tests.browser.conftest import screenshot, serious_accessibility_problems
from tests.browser.test_admin_flows import ADMIN, PASSWORD, live_app, page  # noqa: F401
from tests.pg_schemas import same_database

pytestmark = pytest.mark.browser
EVIL = "<img src=x onerror=alert(1)>"


def sign_in(tab, base: str, who: str, path: str = "/tasks") -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}{path}")
    tab.fill("#username", who)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{path}")


def rows(tab) -> list[str]:  # type: ignore[no-untyped-def]
    tab.wait_for_function(  # a function: Playwright evals an expression, which CSP forbids
        "() => !document.getElementById('count').textContent.startsWith('Loading')")
    return tab.locator("#tasks tbody tr td.why > div:first-child").all_text_contents()


def test_worklist_filter_take_close_and_give(live_app, page, browser):  # noqa: F811
    app, base = live_app
    env = {"IVR_INSTANCE_DIR": str(app.config["IVR"].instance_dir), "DATABASE_URL": same_database()}
    CliRunner().invoke(user_command, ["add", "alice", "--role", "agent", "--password", PASSWORD],
                       env=env)
    now = time.time()
    warm = {"agent": "dan", "to_type": "agent", "to": "alice", "mode": "warm"}
    handled = (("hold_started", 30, {"agent": "dan"}),  # the last caller: held, then handed on
               ("hold_ended", 50, {"agent": "dan", "seconds": 20.0}),
               ("transfer", 55, {**warm, "result": "started"}),
               ("transfer", 60, {**warm, "result": "completed"}))
    for n, caller in enumerate(("+14155550101", "+14155550102", "+14155550103")):
        seed.past_call(app, f"CA{n}" + "0" * 31, caller, now - 3600 + n,
                       floor=handled if n == 2 else ())
    voicemail = seed.task(app, "CA0" + "0" * 31, "+14155550101", "Voicemail from +14155550101",
                          rule="voicemail", priority=1, due_in=-600, transcript=EVIL + " call me")
    seed.task(app, "CA1" + "0" * 31, "+14155550102", "Abandoned after 4 min in sales",
              team="sales")
    later = seed.task(app, "CA2" + "0" * 31, "+14155550103", "Unhappy: " + EVIL, priority=3)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    sign_in(page, base, "alice")
    assert rows(page) == ["Voicemail from +14155550101", "Abandoned after 4 min in sales",
                          "Unhappy: " + EVIL]  # most urgent first
    # how each call went on the agent floor (the API's `handling`): who had it, holds, transfers
    moved = page.locator(f'tr[data-task="{later}"] td.handling')
    assert moved.locator("div").all_text_contents() == [
        "dan", "dan → alice (warm transfer)", "on hold 1× (20 s)"]
    assert page.locator(f'tr[data-task="{voicemail}"] td.handling').text_content() == "dan"
    voice = page.locator(f'tr[data-task="{voicemail}"]')
    assert voice.locator(".transcript").text_content() == f"“{EVIL} call me”"
    assert "OVERDUE" in voice.locator("td").nth(1).text_content()
    page.select_option("#f-team", "support")
    page.check("#f-overdue")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/tasks?status=open&team=support&owner=&overdue=1")
    assert rows(page) == ["Voicemail from +14155550101"]
    voice.locator("form[data-action=assign] button").click()
    page.get_by_text(f"Task {voicemail} assigned to alice.").wait_for()
    assert voice.locator("td.owner").text_content() == "alice"
    voice.locator("form[data-action=close] select").select_option("called_back")
    voice.locator("form[data-action=close] textarea").fill("rang back, sorted " + EVIL)
    voice.locator("form[data-action=close] button").click()
    page.get_by_text(f"Task {voicemail} closed: called_back.").wait_for()
    assert rows(page) == []  # closed tasks are not in the open view
    page.goto(f"{base}/tasks?status=closed")
    assert rows(page) == ["Voicemail from +14155550101"]
    assert "rang back, sorted " + EVIL in page.locator(".notes").text_content()
    assert page.locator("td.status").text_content() == "closed (called_back)"
    screenshot(page, "worklist-agent")
    assert serious_accessibility_problems(page) == []
    assert dialogs == []

    boss = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab = boss.new_page()
    sign_in(tab, base, ADMIN)
    task = tab.locator(f'tr[data-task="{later}"]')
    task.locator("form[data-action=assign] select").select_option("bob")
    task.locator("form[data-action=assign] button").click()
    tab.get_by_text(f"Task {later} assigned to bob.").wait_for()
    assert task.locator("td.owner").text_content() == "bob"
    tab.goto(f"{base}/tasks?owner=bob")
    assert rows(tab) == ["Unhappy: " + EVIL]
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(tab, "worklist-phone")
    boss.close()
