"""Toll fraud through the whole stack (issue 12, item 4): signed webhooks from the Twilio
stand-in, the app over HTTP, the shipped queues.yaml (support calls back US and CA only, at
most 3 callbacks per number a day). Every document the caller gets is checked against the
TwiML rules (`transcript.ok`). On the old code the UK 0871 premium number and the London
number were both booked, and a fourth callback too."""

from __future__ import annotations

import json

from ivr.store import keys
from tests.e2e.conftest import Live

CALLER = "+14155550123"
NOT_CALLABLE = "We only call back ordinary phone numbers, not premium-rate or satellite"
NOT_SERVED = "we can't call back numbers in that country"
TOO_MANY = "as many callbacks as we can book in one day"


def booked(live: Live, call_sid: str) -> list[str]:
    out = []
    for _, fields in live.redis.xrange(keys.events_stream()):
        if fields[b"call"].decode() == call_sid and fields[b"kind"] == b"callback_requested":
            out.append(json.loads(fields[b"data"])["number"])
    return out


def finished_call(live: Live, script: str) -> tuple[str, str]:
    leg = live.call(script, from_=CALLER)
    live.run_until(lambda: leg.completed)
    assert leg.transcript.ok, leg.transcript.render()  # every document passed the TwiML rules
    return leg.call_sid, " | ".join(leg.transcript.heard())


def test_premium_and_foreign_numbers_are_refused_with_reasons_then_a_us_number_is_booked(
        live: Live):
    sid, heard = finished_call(live, "hold 1; press 1; press 2; press 011448712345678#; "
                                     "press 011442079460018#; press 4155550177#")
    assert heard.index(NOT_CALLABLE) < heard.index(NOT_SERVED) < heard.index(
        "Your callback is booked.")
    assert TOO_MANY not in heard
    assert booked(live, sid) == ["+14155550177"]


def test_a_fourth_callback_from_one_number_in_a_day_is_refused_and_the_caller_keeps_waiting(
        live: Live):
    sids = []
    for script in ("hold 1; press 1; press 2; press 4155550177#",
                   "hold 1; press 1; press 1",  # the caller's own number
                   "hold 1; press 1; press 2; press 4155550178#"):
        sid, heard = finished_call(live, script)
        assert "Your callback is booked." in heard
        sids.append(sid)
    assert [n for sid in sids for n in booked(live, sid)] == [
        "+14155550177", CALLER, "+14155550178"]
    sid, heard = finished_call(live, "hold 1; press 1; press 2; press 4155550179#; hold 2; "
                                     "hangup")
    assert TOO_MANY in heard
    assert "Your callback is booked." not in heard
    assert booked(live, sid) == []
    left = [json.loads(f[b"data"]) for _, f in live.redis.xrange(keys.events_stream())
            if f[b"call"].decode() == sid and f[b"kind"] == b"queue_left"]
    assert [e["result"] for e in left] == ["hangup"]  # still in line when they hung up


def test_a_premium_or_foreign_caller_id_is_not_offered_and_the_caller_hears_why(live: Live):
    """Caller IDs can be spoofed: a premium-rate UK caller ID (0871, which the old prefix
    list let through) and a Jamaican one (+1, but not a country the queue serves) are never
    offered for the callback; the caller hears why and keys a number we may call."""
    heard_by = {}
    for caller, why, keyed in (("+448712345678", NOT_CALLABLE, "4155550188"),
                               ("+18765550100", NOT_SERVED, "4155550189")):
        leg = live.call(f"hold 1; press 1; press {keyed}#", from_=caller)
        live.run_until(lambda leg=leg: leg.completed)
        assert leg.transcript.ok, leg.transcript.render()
        heard = " | ".join(leg.transcript.heard())
        assert "number ending in" not in heard
        assert heard.index(why) < heard.index("Your callback is booked.")
        heard_by[caller] = booked(live, leg.call_sid)
    assert heard_by == {"+448712345678": ["+14155550188"], "+18765550100": ["+14155550189"]}
