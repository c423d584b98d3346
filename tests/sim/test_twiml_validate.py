"""The TwiML validator used by every test: each check is shown to pass a good document and to
fail a bad one, so a validator that silently accepts everything cannot hide here."""

from __future__ import annotations

import pytest

from tests.twiml_validate import assert_valid_twiml, twiml_problems

GOOD_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather input="dtmf speech" numDigits="1" timeout="5" finishOnKey="#" speechTimeout="auto"
          action="/voice/next?seq=1" method="POST" actionOnEmptyResult="true">
    <Say voice="Polly.Joanna" language="en-US">Press 1 for orders.</Say>
    <Play>/prompts/en/menu.wav</Play>
    <Pause length="1"/>
  </Gather>
  <Record action="/voice/next?seq=2" finishOnKey="#*" timeout="0" maxLength="120" playBeep="true"/>
  <Dial action="/voice/next?seq=3" timeout="20"><Number>+15551230000</Number></Dial>
  <Enqueue action="/voice/queue/done" waitUrl="/voice/queue/wait?queue=support"
           waitUrlMethod="POST">support</Enqueue>
  <Redirect method="POST">/voice/next?seq=4</Redirect>
  <Hangup/>
</Response>"""

GOOD_WAIT = """<Response>
  <Say>You are caller 2.</Say><Play loop="1">/prompts/en/hold.wav</Play><Pause length="10"/>
  <Gather input="dtmf" numDigits="1" action="/voice/queue/key"><Say>Press 1 to leave.</Say></Gather>
  <Redirect>/voice/queue/wait</Redirect><Leave/><Hangup/>
</Response>"""


def test_good_documents_pass():
    assert twiml_problems(GOOD_DOCUMENT) == []
    assert twiml_problems(GOOD_WAIT, "wait") == []
    assert_valid_twiml(GOOD_DOCUMENT.encode(), "document")
    assert_valid_twiml("<Response/>", "wait")


@pytest.mark.parametrize(("xml", "expected"), [
    ("", "empty document"),
    ("<Response><Say>hi</Response>", "not well-formed"),
    ("<Respons><Say>hi</Say></Respons>", "not <Response>"),
    # XSD: nesting and ranges
    ("<Response><Gather><Dial>+1555</Dial></Gather></Response>", "XSD"),
    ("<Response><Pause length='-1'/></Response>", "XSD"),
    ("<Response><Say>hi <break time='1s'/></Say></Response>", "XSD"),
    # rules JSON: unknown children and attributes, lowerCamel spelling
    ("<Response><Gather numdigits='1'/></Response>", "unknown attribute 'numdigits'"),
    ("<Response><Enqueue waitURL='/w'>q</Enqueue></Response>", "unknown attribute 'waitURL'"),
    ("<Response><Record><Say>x</Say></Record></Response>", "not allowed inside <Record>"),
    ("<Response><Sayy>x</Sayy></Response>", "<Sayy> is not allowed inside <Response>"),
    ("<Response lang='en'/>", "<Response> has unknown attribute"),
    # value checks of our own (WEBHOOKS.md 3.2, 3.3, 3.6)
    ("<Response><Gather input='voice'/></Response>", "input='voice'"),
    ("<Response><Gather input='speech dtmf dtmf'/></Response>", "input="),
    ("<Response><Gather method='PUT'/></Response>", "method='PUT' is not GET or POST"),
    ("<Response><Redirect method='post'>/x</Redirect></Response>", "is not GET or POST"),
    ("<Response><Enqueue waitUrlMethod='PATCH' waitUrl='/w'>q</Enqueue></Response>",
     "waitUrlMethod='PATCH'"),
    ("<Response><Gather numDigits='0'/></Response>", "numDigits='0' is not a positive"),
    ("<Response><Gather timeout='0'/></Response>", "timeout='0' is not a positive"),
    ("<Response><Dial timeout='abc'>+1555</Dial></Response>", "timeout='abc'"),
    ("<Response><Record timeout='-3'/></Response>", "timeout='-3'"),
    ("<Response><Gather finishOnKey='##'/></Response>", "finishOnKey='##'"),
    ("<Response><Gather finishOnKey='A'/></Response>", "finishOnKey='A'"),
    ("<Response><Record finishOnKey='1A'/></Response>", "finishOnKey='1A'"),
    ("<Response><Gather speechTimeout='soon'/></Response>", "speechTimeout='soon'"),
    ("<Response><Gather actionOnEmptyResult='yes'/></Response>", "actionOnEmptyResult='yes'"),
])
def test_bad_documents_fail(xml, expected):
    problems = twiml_problems(xml)
    assert any(expected in p for p in problems), problems
    with pytest.raises(AssertionError, match="invalid TwiML"):
        assert_valid_twiml(xml)


@pytest.mark.parametrize("verb", [
    "<Enqueue>support</Enqueue>", "<Dial>+15551230000</Dial>", "<Record/>", "<Reject/>",
])
def test_wait_documents_allow_only_the_wait_verbs(verb):
    xml = f"<Response><Say>hold on</Say>{verb}</Response>"
    assert twiml_problems(xml, "document") == []
    problems = twiml_problems(xml, "wait")
    assert len(problems) == 1
    assert "not allowed in a waitUrl document" in problems[0]


def test_unknown_context_is_a_caller_error():
    with pytest.raises(ValueError, match="context"):
        twiml_problems("<Response/>", "queue")
