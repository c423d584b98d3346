"""The SMS survey end to end: a caller who hangs up at the survey gets it by SMS after the call
(RQ job, real twilio client, the stand-in's Messages.json); their reply through the signed
`POST /sms` webhook is answered with TwiML and lands as the survey answer on the call's record."""

from __future__ import annotations

import logging
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import requests
from rq import Queue, SimpleWorker

from ivr.phone.call_control import build_client
from ivr.store import models as m
from ivr.store.jobs import MESSAGING_QUEUE
from queue_worker.outcomes import drain_events
from queue_worker.sms_survey import install_sms_client
from tests.e2e.conftest import Live
from tests.privacy.conftest import SURVEY_FLOW, SURVEY_LINE, outcome_db, stream_events

CALLER = "+14155550133"


def publish_survey_flow(live: Live, tmp_path: Path) -> None:
    """Save the survey flow and have the app load it now: a web process looks at the flow
    files at most once a second (IVR_FLOW_CHECK_EVERY), and the calls below start at once."""
    (tmp_path / "callflows" / "rate_us.yaml").write_text(SURVEY_FLOW)
    assert live.app.extensions["ivr"].flows.reload()


def send_jobs(live: Live) -> None:
    install_sms_client(live.redis, build_client(live.app.config["IVR"]), SURVEY_LINE)
    SimpleWorker([Queue(MESSAGING_QUEUE, connection=live.redis)],
                 connection=live.redis).work(burst=True)


def text_back(live: Live, body: str, from_: str = CALLER) -> tuple[int, str]:
    """The customer's SMS, relayed by the stand-in as a signed webhook; (status, reply text)."""
    answer = requests.post(f"{live.standin.config.api_base}/sim/messages/inbound", timeout=10,
                           json={"from": from_, "to": SURVEY_LINE, "body": body}).json()
    if answer["status"] != 200:
        return answer["status"], ""
    root = ET.fromstring(answer["reply"])
    assert root.tag == "Response"
    return 200, " ".join(e.text or "" for e in root.iter("Message"))


def test_hang_up_at_the_survey_then_answer_by_sms(live: Live, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    publish_survey_flow(live, tmp_path)
    gone = live.standin.start_inbound(CALLER, SURVEY_LINE, "hangup")        # skips the survey
    done = live.standin.start_inbound("+14155550144", SURVEY_LINE, "press 5; press 1")
    live.run_until(lambda: gone.completed and done.completed)
    live.run_until(lambda: "call_ended" in [k for k, _ in stream_events(live.redis,
                                                                          gone.call_sid)])
    send_jobs(live)
    sent = live.standin.messages
    assert [(s["to"], s["from"]) for s in sent] == [(CALLER, SURVEY_LINE)]  # not to `done`
    assert sent[0]["body"].startswith("Acme: how satisfied were you with your call?")

    assert text_back(live, "7") == (200, "Sorry, please reply with a number from 1 to 5.")
    assert text_back(live, "4 - it was ok") == (200, "Thank you for your feedback.")
    assert text_back(live, "5") == (200, "")                 # answered: later texts are not
    assert text_back(live, "5", from_="+14155550999") == (200, "")    # a stranger: no reply
    forged = requests.post(f"{live.base_url}/sms", timeout=5, data={
        "From": CALLER, "Body": "1", "MessageSid": "SMforged"},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert forged.status_code == 403

    live.app.extensions["ivr"].call_ended(gone.call_sid, {"CallStatus": "completed"},
                                          live.app.extensions["ivr"].clock())  # Twilio retries
    send_jobs(live)
    assert len(live.standin.messages) == 1                   # still one SMS for the call

    engine, factory = outcome_db(tmp_path)
    drain_events(live.redis, factory)
    with factory() as session:
        answers = {sid: sorted((a.question, a.answer, a.score)
                               for a in session.get(m.CallRow, sid).survey_answers)
                   for sid in (gone.call_sid, done.call_sid)}
    assert answers == {gone.call_sid: [("satisfaction", "4", 4)],
                       done.call_sid: [("resolved", "yes", None), ("satisfaction", "5", 5)]}
    (sms,) = [d for k, d in stream_events(live.redis, gone.call_sid) if k == "survey_answer"]
    assert (sms["channel"], sms["text"]) == ("sms", "4 - it was ok")
    assert sms["message"].startswith("SM")
    engine.dispose()
    assert "SMS survey SM" in caplog.text                      # the job logged the send...
    assert "+*******0133" in caplog.text                       # ...with the number masked
    assert CALLER not in caplog.text
    assert CALLER.replace("+", "%2B") not in caplog.text


def test_no_survey_text_to_premium_or_foreign_caller_ids(live: Live, tmp_path: Path):
    """Toll fraud (issue 12): a spoofed caller ID must not make us text a premium-rate UK
    number or a Jamaican one (queues.yaml's callbacks serve US and CA); the old rule texted
    any number that looked like E.164."""
    publish_survey_flow(live, tmp_path)
    legs = [live.standin.start_inbound(number, SURVEY_LINE, "hangup")
            for number in ("+448712345678", "+18765550100", CALLER)]
    live.run_until(lambda: all(leg.completed for leg in legs))
    live.run_until(lambda: all("call_ended" in [k for k, _ in stream_events(
        live.redis, leg.call_sid)] for leg in legs))
    send_jobs(live)
    assert [s["to"] for s in live.standin.messages] == [CALLER]
