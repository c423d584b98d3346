"""`POST /voice/client`: an agent's outgoing softphone call is dialled with our caller ID
after the callbacks' toll-fraud policy; a refused number is told why and never dialled; only
softphones (`client:`) place calls; unsigned requests get 403. Every answer validates."""

from __future__ import annotations

from lxml import etree

from ivr.phone.call_control import TEST_CALLER_ID
from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import standard_params


def answer(post, call_sid: str, to: str, frm: str = "client:alice") -> etree._Element:  # type: ignore[no-untyped-def]
    response = post("/voice/client", standard_params(call_sid, From=frm, Caller=frm, To=to,
                                                     Direction="inbound",
                                                     ApplicationSid="AP" + "0" * 32))
    assert response.status_code == 200
    assert_valid_twiml(response.data)
    return etree.fromstring(response.data)


def test_an_ordinary_number_is_dialled_with_our_caller_id(post, call_sid):
    doc = answer(post, call_sid, "+1 (415) 555-0134")
    dial = doc.find("Dial")
    assert dial.get("callerId") == TEST_CALLER_ID
    assert [n.text for n in dial.findall("Number")] == ["+14155550134"]


def test_premium_and_foreign_numbers_are_refused_with_why(post, call_sid):
    premium = answer(post, call_sid, "+19005550134")
    assert premium.find("Dial") is None
    assert "premium-rate" in premium.find("Say").text
    assert premium.find("Hangup") is not None
    abroad = answer(post, call_sid, "+447400123456")  # a valid UK mobile; queues call US, CA
    assert abroad.find("Dial") is None
    assert "a number in GB; callbacks go to CA, US only" in abroad.find("Say").text
    short = answer(post, call_sid, "911")
    assert short.find("Dial") is None
    assert "short number" in short.find("Say").text


def test_only_softphones_place_calls(post, call_sid):
    doc = answer(post, call_sid, "+14155550134", frm="+14155550100")
    assert doc.find("Dial") is None
    assert "softphones" in doc.find("Say").text


def test_unsigned_is_refused(post, call_sid):
    params = standard_params(call_sid, From="client:alice", To="+14155550134")
    assert post("/voice/client", params, signed=False).status_code == 403
