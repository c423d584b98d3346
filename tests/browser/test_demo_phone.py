"""The demo phone in Chromium: the agent console on the Twilio stand-in.

With the app on the stand-in (`Config.uses_standin`, as in `bin/dev demo`) the console loads
dashboards/static/pages/standin-device.js instead of the Voice SDK, which would try to reach
Twilio. It registers the agent's own identity on the stand-in in manual mode through the app's
/demo-phone/... routes (dashboards/standin_phone.py): a call routed to alice rings in the
page, Accept joins the conference, Hold and a transfer to a queue work as with the real SDK.
The routes refuse another identity, and do not exist with real Twilio credentials. (The
softphone tests, tests/browser/test_softphone*.py and test_shift.py, drive the console through
this same file.)"""

from __future__ import annotations

import random

import pytest
import requests

from ivr.commands.demo_traffic import Agents, manual_device
from tests.browser.conftest import screenshot
from tests.browser.softphone_floor import RING_SECONDS, SLOWER, agent_leg, sign_in
from tests.browser.test_admin_flows import live_app, page  # noqa: F401
from tests.browser.waiting import until
from tests.e2e.conftest import live  # noqa: F401
from tests.signin import add_users

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live, browser, monkeypatch):  # noqa: F811
    """The e2e call centre on the stand-in, alice (client:alice) an agent, and a browser
    context: the page runs the product's demo phone."""
    import tests.e2e.conftest as e2e

    monkeypatch.setattr(e2e, "SPEED", SLOWER)
    add_users(live.app.config["IVR"].instance_dir, alice="agent", bob="agent")
    live.configure_queue("support", ring_timeout=RING_SECONDS)  # the test decides each ring
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    context.set_default_timeout(20000)
    yield live, context
    context.close()


def standin(centre, path: str):  # type: ignore[no-untyped-def]
    return requests.get(centre.app.config["IVR"].twilio_api_base + path, timeout=5).json()


def test_the_demo_phone_rings_accepts_holds_and_transfers_to_a_queue(demo):
    centre, context = demo
    tab = context.new_page()
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#demo-phone").filter(has_text="Demo phone (Twilio stand-in)").wait_for()
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    assert tab.evaluate("() => Twilio.Device.version") == "demo phone (Twilio stand-in)"
    assert standin(centre, "/sim/clients/alice") == {"identity": "alice", "registered": True,
                                                     "mode": "manual"}
    # the demo's simulated agents leave alice to the person signed in as her
    crew = Agents(centre.queues, random.Random(1),
                  manual_device(centre.app.config["IVR"].twilio_api_base))
    simulated = {a.id for a in crew.simulated()}
    assert "alice" not in simulated
    assert "dan" in simulated

    centre.available("alice")
    caller = centre.call("hold 120")
    until(tab, lambda: tab.locator("#ringing").is_visible(), centre.work, what="the ring")
    tab.locator("#ring-why").filter(has_text="+14155550123").wait_for()
    tab.click("#accept")
    leg = agent_leg(centre)
    tab.locator("#call-state").filter(has_text="talking").wait_for()  # both in the room
    with tab.expect_response(lambda r: r.url.endswith("/agent/call/hold?agent=alice")) as held:
        tab.click("#hold")
    assert held.value.status == 200, held.value.text()
    tab.locator("#hold").filter(has_text="Resume").wait_for()
    until(tab, lambda: [e for e in caller.transcript.events if e.kind == "held"], centre.work,
          what="the caller on hold")
    screenshot(tab, "demo-phone-on-hold")
    tab.select_option("#to_type", "queue")
    tab.fill("#to", "sales")
    with tab.expect_response(lambda r: r.url.endswith("/agent/call/transfer?agent=alice")) as moved:
        tab.click("#transfer button[data-action='transfer']")
    assert moved.value.status == 200, moved.value.text()
    until(tab, lambda: centre.queues.place(caller.call_sid)[0] == "sales", centre.work,
          what="the caller in the sales queue")
    until(tab, lambda: leg.ended, centre.work, what="alice's leg to end")
    tab.locator("#controls").wait_for(state="hidden")
    assert caller.transcript.ok, caller.transcript.render()


def test_the_routes_serve_only_the_signed_in_agents_own_identity(demo):
    centre, context = demo
    tab = context.new_page()
    sign_in(tab, centre.base_url, "alice")
    tab.locator("#device-state").filter(has_text="ready").wait_for()
    web, base = context.request, centre.base_url  # alice's session cookie
    assert web.get(f"{base}/demo-phone/alice/calls").json() == []
    assert web.get(f"{base}/demo-phone/bob/calls").status == 403
    csrf = tab.evaluate("() => JSON.parse(document.getElementById('page-data').textContent).csrf")
    taken = web.post(f"{base}/demo-phone/bob/register", data={},
                     headers={"X-CSRF-Token": csrf})
    assert taken.status == 403
    assert standin(centre, "/sim/clients/bob") == {"identity": "bob", "registered": False,
                                                   "mode": None}
    unknown = web.post(f"{base}/demo-phone/alice/calls/CA123/conference",
                       data={}, headers={"X-CSRF-Token": csrf})
    assert unknown.status == 404
    anonymous = requests.get(f"{base}/demo-phone/alice/calls",
                             headers={"Accept": "application/json"}, timeout=10)
    assert anonymous.status_code == 401


def test_with_real_twilio_credentials_there_is_no_demo_phone(live_app, page):  # noqa: F811
    app, base = live_app  # real-looking Twilio credentials: not the stand-in
    assert not app.config["IVR"].uses_standin
    add_users(app.config["IVR"].instance_dir, alice="agent")
    sign_in(page, base, "alice")
    assert page.locator("#demo-phone").count() == 0
    answer = page.request.get(f"{base}/demo-phone/alice/calls")
    assert answer.status == 404
