"""Property tests: random and malformed webhook parameters never produce a 5xx, and every
answer is valid TwiML (a caller never hears "an application error has occurred")."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import standard_params

PATHS = ["/voice", "/voice/next?seq=1", "/voice/next?seq=0", "/voice/next?seq=abc",
         "/voice/next", "/voice/queue/done?seq=1", "/voice/queue/done", "/voice/status",
         "/voice/recording", "/voice/queue/wait?queue=support", "/voice/next?seq=99999999",
         "/voice/queue/wait?queue=support&fallback=1", "/voice/queue/wait?queue=nope",
         "/voice/queue/key?queue=support", "/voice/queue/callback?queue=support&step=offer",
         "/voice/queue/callback?queue=support&step=confirm",
         "/voice/queue/callback?queue=support&step=number&tries=1",
         "/voice/queue/callback?queue=support&step=later&tries=x",
         "/voice/queue/bridge?agent=alice&reservation=r1",
         "/voice/queue/whisper?call=CA1&agent=alice&reservation=r1",
         "/voice/queue/dialed?agent=alice&reservation=r1",
         "/voice/queue/overflow?queue=support&action=voicemail",
         "/voice/queue/callback/agent?callback=c1&reservation=r1&agent=alice",
         "/voice/queue/callback/customer?callback=c1&reservation=r1&agent=nobody",
         "/voice/queue/callback/answered?callback=c1&reservation=r1&agent=alice",
         "/voice/queue/callback/done?callback=c1&reservation=r1&agent=alice&by=customer",
         "/voice/queue/callback/status?callback=c1&reservation=r1&agent=alice&by=agent"]
WAIT_CONTEXT = ("/voice/queue/wait", "/voice/queue/key", "/voice/queue/callback?")

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
KNOWN = ["Digits", "SpeechResult", "Confidence", "QueueResult", "QueueTime", "RecordingUrl",
         "RecordingDuration", "DialCallStatus", "CallStatus", "CallDuration", "QueuePosition",
         "From", "To", "CallSid"]
params = st.dictionaries(st.one_of(st.sampled_from(KNOWN), text.filter(bool)), text, max_size=8)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), extra=params, start_first=st.booleans())
def test_random_webhooks_never_5xx(post, path, extra, start_first):
    sid = "CA" + uuid.uuid4().hex
    if start_first:
        assert post("/voice", standard_params(sid)).status_code == 200
    form = {**standard_params(sid), **extra}
    response = post(path, form)
    assert response.status_code < 500, response.data
    if response.status_code == 200 and response.data:
        context = "wait" if path.startswith(WAIT_CONTEXT) else "document"
        assert_valid_twiml(response.data, context)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), extra=params)
def test_unsigned_or_forged_webhooks_get_403(client, path, extra):
    form = {**standard_params("CA" + uuid.uuid4().hex), **extra}
    assert client.post(path, data=form).status_code == 403
    forged = client.post(path, data=form, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert forged.status_code == 403
