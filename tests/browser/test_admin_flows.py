"""The admin flow editor in a real headless Chromium against the app over HTTP, with a real
Redis: sign in as admin, a broken edit is refused at its line while the live flow keeps
serving, a published change is heard by the next simulated call, and a rollback restores it.

Simulated calls run in-process through the same app object the HTTP server serves, so they
see exactly what the live server would. Screenshots go to tests/artifacts/screenshots/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport
from tests.pg_schemas import same_database
from tests.twiml_validate import twiml_problems

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "tests" / "artifacts" / "screenshots"
TOKEN = "browser-test-token"
BASE = "https://ivr.example.test"
SHOP = "+14155550100"
TUESDAY_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
OLD_MENU = "For the status of an order, press 1"
NEW_MENU = "We are open Monday to Friday"
ADMIN, PASSWORD = "ada-admin", "correct horse battery staple"


@pytest.fixture
def live_app(redis_url: str, redis, tmp_path: Path) -> Iterator[tuple[Flask, str]]:  # noqa: ARG001
    """The app on a real HTTP port (127.0.0.1), flows in a temporary copy. The server is kept
    in `app.extensions["test_server"]` (a LiveServer) so a test can stop and restart it."""
    from ivr import create_app
    from tests.browser.conftest import LiveServer

    flows = tmp_path / "callflows"
    shutil.copytree(REPO / "callflows", flows, ignore=shutil.ignore_patterns("*.md"))
    app = create_app({"redis_url": redis_url, "twilio_auth_token": TOKEN,
                      "twilio_account_sid": "AC" + "1" * 32, "public_base_url": BASE,
                      "instance_dir": tmp_path / "instance", "flows_dir": flows,
                      "prompts_audio_dir": tmp_path / "no-audio"})
    app.extensions["ivr"].clock = lambda: TUESDAY_MORNING
    add_admin(app)
    server = app.extensions["test_server"] = LiveServer(app).start()
    try:
        yield app, server.base
    finally:
        server.stop()


def add_admin(app: Flask) -> None:
    """An admin user, made the way an operator would (`ivr user add`)."""
    import importlib

    from click.testing import CliRunner

    command = importlib.import_module("ivr.commands.user").command  # dashboards' auth

    config = app.config["IVR"]
    env = {"IVR_INSTANCE_DIR": str(config.instance_dir), "DATABASE_URL": same_database()}
    result = CliRunner().invoke(command, ["add", ADMIN, "--role", "admin", "--password",
                                          PASSWORD], env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture
def page(browser) -> Iterator[object]:  # noqa: ANN001 - one Chromium per module (conftest)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15000)  # the flow editor re-checks on each edit: slow when loaded
    yield context.new_page()
    context.close()


def call_hears(app: Flask, script: str = "press 1; hangup") -> str:
    """Place a simulated call in-process (the simulator plays Twilio) and return what the
    caller heard."""
    leg = CallLeg(BASE, FlaskTransport(app), Script.parse(script), auth_token=TOKEN,
                  from_="+14155550123", to=SHOP,
                  options=LegOptions(max_hold_loops=1, check_audio=False,
                                     validate=twiml_problems))
    leg.run()
    assert leg.transcript.ok, leg.transcript.render()
    return " | ".join(leg.transcript.heard())


def hold_first_trial_request(page) -> list:  # noqa: ANN001
    """Keep the first test-call request pending (the list gets its Route) and let the rest
    through, so a test can make answers arrive out of order."""
    held: list = []

    def route(r) -> None:  # noqa: ANN001
        if held:
            r.continue_()
        else:
            held.append(r)

    page.route("**/trial", route)
    return held


def shot(page, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"admin-{name}.png"), full_page=True)


def sign_in(page, base: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/admin/flows")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/flows")


def test_admin_edits_publishes_and_rolls_back_a_flow(live_app, page) -> None:  # noqa: ANN001
    app, base = live_app
    sign_in(page, base)
    shot(page, "flows")
    page.click("text=shop")
    page.wait_for_selector("#status.ok")
    original = page.input_value("#source")

    broken = original.replace("say: shop_main_menu", "say: shop_main_manu", 1)
    line = broken.splitlines().index("    say: shop_main_manu") + 1
    page.fill("#source", broken)
    page.wait_for_selector("#status.bad")
    first_error = page.inner_text("#errors li >> nth=0")
    assert first_error.startswith(f"line {line}:")
    assert "shop_main_manu" in first_error
    assert page.inner_text(".gutter-error >> nth=0") == str(line)
    assert page.is_disabled("#publish")
    shot(page, "refused-at-line")
    page.fill("#message", "typo on purpose")
    with page.expect_navigation():  # the server's refusal is a new page: wait for it
        page.evaluate("document.getElementById('publish-form').submit()")  # past the button
    page.wait_for_selector("#errors li")
    assert f"line {line}:" in page.inner_text("#errors")
    assert "shop_main_manu" in page.input_value("#source")  # the draft is not lost
    assert OLD_MENU in call_hears(app)  # the live flow keeps serving

    page.fill("#source", original.replace("say: shop_main_menu", "say: shop_hours", 1))
    page.wait_for_selector("#status.ok")
    assert "+    say: shop_hours" in page.inner_text("#diff")
    assert page.locator("#graph svg .node").count() > 10
    held = hold_first_trial_request(page)
    page.click("#trial-start")
    page.click(".key[data-key='1']")
    page.wait_for_selector(f"#trial-log li:has-text('{NEW_MENU}')")
    with page.expect_response(lambda r: r.url.endswith("/trial")):
        held[0].continue_()  # the start's answer arrives last, as it can on a busy server
    page.wait_for_timeout(200)
    assert NEW_MENU in page.inner_text("#trial-log")  # a late, older answer is not drawn
    shot(page, "valid-draft-test-call")
    assert OLD_MENU in call_hears(app)  # a test call touches nothing live
    page.fill("#message", "main menu reads the opening hours")
    page.click("#publish")
    page.wait_for_selector("text=Published shop version 2")
    assert ADMIN in page.inner_text("#versions")
    shot(page, "published")
    assert NEW_MENU in call_hears(app)

    page.click("button.rollback[data-version='1']")
    page.wait_for_selector("text=Rolled back shop to version 1")
    shot(page, "rolled-back")
    heard = call_hears(app)
    assert OLD_MENU in heard
    assert NEW_MENU not in heard


def test_admin_pages_and_the_emergency_switch(live_app, page) -> None:  # noqa: ANN001
    app, base = live_app
    sign_in(page, base)
    page.click("text=Hours, holidays")
    page.click("#toggle-emergency_closed")
    page.wait_for_selector("text=emergency_closed is now ON")
    shot(page, "operations-emergency-on")
    heard = call_hears(app, "press 1; press 0; hangup")
    assert "Connecting you" not in heard
    page.click("#toggle-emergency_closed")
    page.wait_for_selector("text=emergency_closed is now off")
    assert "Connecting you" in call_hears(app, "press 1; press 0; hangup")
    page.click("text=Prompts")
    page.wait_for_selector("#prompts")
    shot(page, "prompts")
    page.click("text=Queues & agents")
    page.wait_for_selector("#queues")
    shot(page, "agents")
