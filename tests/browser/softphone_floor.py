"""The call centre the softphone browser tests play on, and their moves (test_softphone*.py,
test_shift.py).

The console's real softphone code runs on the Twilio stand-in, as `ivr demo` does: the page
loads the product's demo phone (dashboards/static/pages/standin-device.js, the SDK's
Device/Call surface driving the stand-in's simulated client legs through the app's
/demo-phone routes) instead of the SDK, which cannot reach Twilio from here. No test-only
double: what these tests drive is what the demo ships. The `floor` fixture (the call centre
and a browser context) is in tests/browser/conftest.py."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.browser.waiting import until
from tests.signin import PASSWORD

SLOWER = 6.0  # the stand-in's clock (the call's prompts and holds take 1/6 of their time)
RING_SECONDS = 600


def sign_in(tab: Any, base: str, user: str, path: str = "/agent") -> None:
    tab.goto(f"{base}{path}")
    tab.fill("#username", user)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}{path}")


def new_context(browser: Any) -> Any:
    """A browser context of its own (its own cookies: one signed-in user)."""
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    context.set_default_timeout(20000)
    return context


def sim(centre: Any, path: str) -> Any:
    return requests.get(centre.app.config["IVR"].twilio_api_base + path, timeout=5).json()


def ringing_console(centre: Any, context: Any, caller_script: str = "hold 60; press 5; press 1",
                    ) -> tuple[Any, Any, list[dict[str, Any]]]:
    """alice signed in with her softphone registered; a caller routed to her, ringing."""
    tab = context.new_page()
    posted: list[dict[str, Any]] = []
    tab.on("request", lambda r: posted.append(json.loads(r.post_data or "{}"))
           if r.method == "POST" and r.url.endswith("/agent/device") else None)
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    centre.available("alice")
    caller = centre.call(caller_script)
    until(tab, lambda: tab.locator("#ringing").is_visible(), centre.work, what="the ring")
    return tab, caller, posted


def client_legs(centre: Any, identity: str) -> list[Any]:
    """The stand-in's legs to `client:identity` (the softphone's calls), oldest first."""
    return [a for a in centre.standin.all_legs() if a.to == f"client:{identity}"]


def agent_leg(centre: Any) -> Any:
    (leg,) = client_legs(centre, "alice")
    return leg


def monitor_leg(centre: Any) -> list[Any]:
    return client_legs(centre, "sue")


def in_conference(leg: Any) -> bool:
    return any("joined conference" in e.text for e in leg.transcript.events)
