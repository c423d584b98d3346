"""The agent console's softphone in Chromium.

The REAL vendored Twilio Voice SDK loads in the page under its Content-Security-Policy and is
the recorded version; without an API key the console says what to set. Everything else runs
the console's real softphone code against a test double of the SDK's Device and Call
(tests/browser/voice_sdk_double.js) wired to the Twilio stand-in's simulated client legs
(tests/browser/softphone_double.py): the SDK cannot reach Twilio from here."""

from __future__ import annotations

import pytest

from dashboards.softphone import VOICE_SDK_VERSION
from tests.browser.test_admin_flows import live_app, page  # noqa: F401
from tests.signin import PASSWORD, add_users

pytestmark = pytest.mark.browser


def sign_in(tab, base: str, user: str, path: str = "/agent") -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}{path}")
    tab.fill("#username", user)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{path}")


def test_the_real_sdk_loads_and_is_the_recorded_version(live_app, page):  # noqa: F811
    app, base = live_app  # real-looking Twilio credentials and no API key
    add_users(app.config["IVR"].instance_dir, alice="agent")
    sign_in(page, base, "alice")
    page.wait_for_function("() => window.Twilio && window.Twilio.Device")
    assert page.evaluate("() => Twilio.Device.version") == VOICE_SDK_VERSION
    assert page.evaluate("() => typeof Twilio.Device.prototype.register") == "function"
    error = page.locator("#phone-error")
    error.filter(has_text="TWILIO_API_KEY_SID").wait_for()
    assert page.locator("#device-state").text_content() == "unavailable"
