"""X-Twilio-Signature: the known-answer vectors of WEBHOOKS.md section 4, and twilio-python's
RequestValidator as an oracle (Twilio's code, not ours)."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from devkit.twilio_standin.signing import (
    body_sha256,
    compute_signature,
    sign_json_request,
    signature_header,
)

DOCS_PARAMS = {"Digits": "1234", "To": "+18005551212", "From": "+14158675310",
               "Caller": "+14158675310", "CallSid": "CA1234567890ABCDE"}
PY_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
             "To": "+18005551212", "Caller": "+14158675309"}


@pytest.mark.parametrize(("url", "params", "expected"), [
    ("https://example.com/myapp.php?foo=1&bar=2", DOCS_PARAMS, "L/OH5YylLD5NRKLltdqwSvS0BnU="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2", PY_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", PY_PARAMS,
     "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com:80/myapp.php?foo=1&bar=2", PY_PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", PY_PARAMS,
     "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
])
def test_known_answer_vectors(url, params, expected):
    assert compute_signature("12345", url, params) == expected


def test_multi_valued_parameters_sort_and_dedupe():
    form = MultiDict([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                      ("Digits", "1234"), ("Digits", "1234")])
    expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature("12345", url, form) == expected
    assert compute_signature("12345", url, list(form.items(multi=True))) == expected
    assert compute_signature("12345", url, {"Sid": "CA123", "SidAccount": "AC123",
                                            "Digits": ["5678", "1234", "1234"]}) == expected


def test_json_body_vectors():
    body = '{"property": "value", "boolean": true}'
    assert body_sha256(body) == "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url, sig = sign_json_request("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", body)
    assert url.endswith("bodySHA256=" + body_sha256(body))
    assert sig == "a9nBmqA0ju/hNViExpshrM61xv4="
    assert RequestValidator("12345").validate(url, body, sig)
    docs_body = '{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
    assert body_sha256(docs_body) == (
        "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5000/voice", "https://ivr.example.com/voice/next?seq=3",
    "http://localhost/voice/queue/wait?queue=support&lang=en",
])
@pytest.mark.parametrize("params", [
    {}, PY_PARAMS, {"SpeechResult": "order status ünïcode", "Confidence": "0.91"},
    {"Digits": "", "a": "1", "B": "2", "_": "x"},
])
def test_round_trip_through_twilio_request_validator(url, params):
    sig = compute_signature("s3cret-token", url, params)
    validator = RequestValidator("s3cret-token")
    assert validator.validate(url, params, sig)
    assert not RequestValidator("other-token").validate(url, params, sig)
    assert not validator.validate(url, {**params, "Digits": "9"}, sig)


def test_no_token_means_no_header():
    assert signature_header(None, "http://x/voice", {}) == {}
    assert signature_header("t", "http://x/voice", {}) == {
        "X-Twilio-Signature": compute_signature("t", "http://x/voice")}
