"""Every demo flow walked through the web app by the call simulator, as Twilio would play it:
signed webhooks, every TwiML document validated, the caller's words asserted.

The app's clock is pinned to a Tuesday morning in the flows' time zone, so business hours are
open whatever time the suite runs; an after-hours test pins it to Sunday night.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport
from tests.twiml_validate import twiml_problems
from tests.web.conftest import BASE, TOKEN

LA = ZoneInfo("America/Los_Angeles")
TUESDAY_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=LA)
SUNDAY_NIGHT = datetime(2026, 11, 29, 22, 0, tzinfo=LA)
SHOP, UTILITY = "+14155550100", "+14155550199"


def walk(app: Flask, to: str, script: str, at: datetime = TUESDAY_MORNING,
         caller: str = "+14155550123") -> CallLeg:
    app.extensions["ivr"].clock = lambda: at
    leg = CallLeg(BASE, FlaskTransport(app), Script.parse(script), auth_token=TOKEN,
                  from_=caller, to=to,
                  options=LegOptions(max_hold_loops=2, check_audio=False,
                                     validate=twiml_problems))
    leg.run()
    assert leg.transcript.ok, leg.transcript.render()
    return leg


def heard(leg: CallLeg) -> str:
    return " | ".join(leg.transcript.heard())


def test_shop_order_status_is_solved_by_self_service(app: Flask):
    leg = walk(app, SHOP, "press 1; press 1; press 10000008#; press 1")
    words = heard(leg)
    assert "has shipped with UPS" in words
    assert "one hundred sixteen dollars and eleven cents" in words
    assert "glad we could help" in words


def test_shop_bad_order_number_is_re_asked_then_found(app: Flask):
    leg = walk(app, SHOP, "press 1; press 1; press 12345678#; press 10000008#; press 1")
    assert "has shipped" in heard(leg)
    assert heard(leg).count("8 digit order number") == 2


def test_shop_spanish_balance(app: Flask):
    leg = walk(app, SHOP, "press 2; press 2; press 55000004#; press 1")
    assert "332" in heard(leg) or "trescientos" in heard(leg)


def test_shop_zero_reaches_the_queue_from_the_menu(app: Flask):
    leg = walk(app, SHOP, "press 1; press 0; hold 1")
    assert "Connecting you with the next available agent." in heard(leg)
    assert "You are number 1 in line." in heard(leg) or "You are next in line." in heard(leg)
    assert leg.queue_name is None
    queued = [e for e in leg.transcript.events if e.kind == "enqueue"]
    assert queued


def test_shop_speech_agent_reaches_a_human(app: Flask):
    leg = walk(app, SHOP, 'press 1; say "agent"; hold 1')
    assert [e for e in leg.transcript.events if e.kind == "enqueue"]


def test_shop_after_hours_offers_voicemail(app: Flask):
    leg = walk(app, SHOP, 'press 1; press 4; say "please call me back"', at=SUNDAY_NIGHT)
    assert "Our team is away right now." in heard(leg)
    assert [e for e in leg.transcript.events if e.kind == "recorded"]
    from rq import Queue

    from ivr.store.jobs import TRANSCRIPTION_QUEUE

    conn = app.extensions["ivr"].redis
    assert Queue(TRANSCRIPTION_QUEUE, connection=conn).count == 1  # the voicemail's transcript
    kinds = [f[b"kind"] for _, f in conn.xrange("ivr:events")]
    assert b"voicemail_recorded" in kinds


def test_utility_outage_by_postcode(app: Flask):
    leg = walk(app, UTILITY, "press 1; press 1; press 94107#; press 1")
    assert "damaged line" in heard(leg)


def test_every_prompt_of_a_call_is_valid_twiml_even_on_garbage_input(app: Flask):
    walk(app, SHOP, "press 9; press 9; press 9; press *; hold 1")


def test_emergency_switch_closes_and_always_open_opens(app: Flask):
    from ivr.store.operator_flags import set_flag

    conn = app.extensions["ivr"].redis
    set_flag(conn, "emergency_closed", "on")
    leg = walk(app, SHOP, 'press 1; press 0; say "help"')
    assert "closed because of an emergency" in heard(leg)
    set_flag(conn, "emergency_closed", None)
    set_flag(conn, "always_open", "on")
    leg = walk(app, SHOP, "press 1; press 0; hold 1", at=SUNDAY_NIGHT)
    assert "Our team is away" not in heard(leg)
    assert [e for e in leg.transcript.events if e.kind == "enqueue"]


def test_utility_storm_mode_goes_straight_to_the_outage_check(app: Flask):
    from ivr.store.operator_flags import set_flag

    set_flag(app.extensions["ivr"].redis, "storm_mode", "on")
    leg = walk(app, UTILITY, "press 1; press 94110#; press 1")
    assert "planned maintenance" in heard(leg)
