"""The agent console in Chromium: a caller whose name carries a script tag (injected through a
signed webhook) reaches the agent; the page shows it as text and runs nothing, with the
caller's previous call and open follow-up (reason from outside, shown as text) and the
callbacks waiting (one overdue, its caller's name a script tag too); the agent files a
disposition. No serious axe-core problems; a phone-sized screenshot."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from ivr.commands.user import command as user_command
from ivr.domain.flow.actions import CallEvent
from ivr.store import keys
from tests.browser import seed
from tests.browser.conftest import screenshot, serious_accessibility_problems
from tests.browser.test_admin_flows import (  # noqa: F401
    BASE,
    PASSWORD,
    TOKEN,
    TUESDAY_MORNING,
    live_app,
    page,
)
from tests.pg_schemas import same_database

pytestmark = pytest.mark.browser
SID = "CA" + "9" * 32
EVIL = "<script>alert(1)</script>"


def test_agent_takes_the_call_and_files_a_disposition(live_app, page):  # noqa: F811
    app, base = live_app
    env = {"IVR_INSTANCE_DIR": str(app.config["IVR"].instance_dir), "DATABASE_URL": same_database()}
    CliRunner().invoke(user_command, ["add", "alice", "--role", "agent", "--password", PASSWORD],
                       env=env)
    params = {"CallSid": SID, "From": "+14155550123", "To": "+14155550100", "CallerName": EVIL}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/voice", params)
    answer = app.test_client().post("/voice", data=params, base_url=BASE,
                                    headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    svc = app.extensions["ivr"]
    seed.past_call(app, "CA" + "8" * 32, "+14155550123", time.time() - 86400)
    seed.task(app, "CA" + "8" * 32, "+14155550123", "Abandoned after " + EVIL)
    other = "CA" + "6" * 32  # another caller, who asked for a callback 20 minutes ago
    params2 = {"CallSid": other, "From": "+14155550124", "To": "+14155550100",
               "CallerName": EVIL + " Two"}
    app.test_client().post("/voice", data=params2, base_url=BASE, headers={
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(BASE + "/voice",
                                                                        params2)})
    svc.queue_engine.callbacks.request("support", "+14155550124", time.time() - 1200,
                                       call_sid=other)
    svc.calls.advance(SID, 1, CallEvent("input", TUESDAY_MORNING, digits="1"))
    svc.calls.advance(SID, 2, CallEvent("input", TUESDAY_MORNING, digits="0"))  # a person
    svc.queue_engine.agents.device("alice", "registered", time.time())
    svc.queue_engine.agent_presence("alice", "available", time.time())
    for queue in svc.queue_engine.queues:
        svc.queue_engine.route(queue, time.time())

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/agent")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/agent")
    page.locator("#card h2").filter(has_text=EVIL).wait_for()
    assert page.locator("#presence").text_content() == "ringing"
    assert page.locator("#card").get_by_text("+14155550123").count() == 1
    # The wait is measured on the clock that stamped the join (frozen here): not the week
    # between the frozen clock and today that the console once showed as "11357 min".
    assert page.locator("#card dt:text-is('Waited') + dd").text_content() == "0 s"
    page.locator("#previous-calls li").filter(has_text="with dan").wait_for()
    assert page.locator("#open-tasks li").all_text_contents() == [
        f"Abandoned after {EVIL} · open"]
    page.locator("#callbacks tbody tr").first.wait_for()
    callback = page.locator("#callbacks tbody tr td").all_text_contents()
    assert callback[:3] == ["support", "+14155550124", EVIL + " Two"]
    assert callback[3].endswith("OVERDUE")  # due 20 min ago, overdue after 15
    screenshot(page, "agent-console")
    assert serious_accessibility_problems(page) == []
    page.select_option("#code", "resolved")
    page.fill("#notes", "called about " + EVIL)
    page.click("#disposition button[type=submit]")
    page.get_by_text("Filed.").wait_for()
    assert dialogs == []  # the script never ran
    filed = [json.loads(f[b"data"]) for _, f in svc.redis.xrange(keys.events_stream())
             if f[b"kind"] == b"disposition"]
    assert filed == [{"agent": "alice", "code": "resolved", "notes": "called about " + EVIL}]
