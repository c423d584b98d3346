"""X-Twilio-Signature checks against the known-answer vectors in ../shared/twiml/WEBHOOKS.md §4."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask, request
from werkzeug.datastructures import MultiDict

from ivr.phone.twilio_auth import FormValues, is_signed, is_signed_by_twilio, public_url

PARAMS_DOCS = {"Digits": "1234", "To": "+18005551212", "From": "+14158675310",
               "Caller": "+14158675310", "CallSid": "CA1234567890ABCDE"}
PARAMS_LIB = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
              "To": "+18005551212", "Caller": "+14158675309"}

app = Flask(__name__)


def check(base: str, path: str, data: object, signature: str, token: str = "12345",
          **kwargs: object) -> bool:
    with app.test_request_context(path, method="POST", data=data,
                                  headers={"X-Twilio-Signature": signature}, **kwargs):
        return is_signed_by_twilio(request, token, base)


@pytest.mark.parametrize(("base", "params", "signature"), [
    ("https://example.com", PARAMS_DOCS, "L/OH5YylLD5NRKLltdqwSvS0BnU="),
    ("https://mycompany.com", PARAMS_LIB, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    # Signed with the port kept: Twilio's validator accepts both forms (WEBHOOKS.md §4, Ports).
    ("https://mycompany.com", PARAMS_LIB, "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com", PARAMS_LIB, "0ZXoZLH/DfblKGATFgpif+LLRf4="),
])
def test_known_answer_vectors_pass(base, params, signature):
    assert check(base, "/myapp.php?foo=1&bar=2", params, signature)


def test_repeated_parameters_sign_sorted_unique_values():
    data = MultiDict([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                      ("Digits", "1234"), ("Digits", "1234")])
    assert check("https://mycompany.com", "/myapp.php?foo=1&bar=2", data,
                 "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_json_body_is_checked_by_its_sha256():
    body = '{"property": "value", "boolean": true}'
    digest = hashlib.sha256(body.encode()).hexdigest()
    assert digest == "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    path = f"/myapp.php?foo=1&bar=2&bodySHA256={digest}"
    assert check("https://mycompany.com", path, body, "a9nBmqA0ju/hNViExpshrM61xv4=",
                 content_type="application/json")
    assert not check("https://mycompany.com", path, body.replace("true", "false"),
                     "a9nBmqA0ju/hNViExpshrM61xv4=", content_type="application/json")


@pytest.mark.parametrize(("base", "path", "params", "why"), [
    ("https://mycompany.com", "/myapp.php?foo=1&bar=2", {**PARAMS_LIB, "Digits": "9"}, "params"),
    ("https://mycompany.com", "/other.php?foo=1&bar=2", PARAMS_LIB, "path"),
    ("https://evil.example", "/myapp.php?foo=1&bar=2", PARAMS_LIB, "host"),
    ("https://mycompany.com", "/myapp.php?foo=1&bar=3", PARAMS_LIB, "query"),
    ("https://mycompany.com", "/myapp.php/?foo=1&bar=2", PARAMS_LIB, "trailing slash"),
])
def test_signature_for_another_url_or_params_fails(base, path, params, why):
    assert not check(base, path, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), why


def test_wrong_token_and_missing_header_fail():
    assert not check("https://mycompany.com", "/myapp.php?foo=1&bar=2", PARAMS_LIB,
                     "RSOYDt4T1cUTdK1PDd93/VVr8B8=", token="54321")
    assert not check("https://mycompany.com", "/myapp.php?foo=1&bar=2", PARAMS_LIB, "")


def test_public_url_uses_configured_origin_not_the_local_socket():
    with app.test_request_context("/voice/next?seq=3", base_url="http://127.0.0.1:5000"):
        assert public_url(request, "https://ivr.example.com/") == \
            "https://ivr.example.com/voice/next?seq=3"
    with app.test_request_context("/voice"):
        assert public_url(request, "https://ivr.example.com") == "https://ivr.example.com/voice"


@pytest.mark.parametrize(("url", "pairs", "signature"), [
    ("https://example.com/myapp.php?foo=1&bar=2", list(PARAMS_DOCS.items()),
     "L/OH5YylLD5NRKLltdqwSvS0BnU="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2", list(PARAMS_LIB.items()),
     "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2",
     [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"),
      ("Digits", "1234")], "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
])
def test_the_one_check_takes_the_lanes_parsed_pairs(url, pairs, signature):
    """The webhook lane (ivr/web/webhook_lane.py) hands `is_signed` its parsed pairs as
    FormValues, Flask a MultiDict: the same known answers pass, another token fails."""
    for form in (MultiDict(pairs), FormValues.of(pairs)):
        assert is_signed("12345", url, form, signature)
        assert not is_signed("54321", url, form, signature)


def test_json_body_without_its_hash_fails_instead_of_crashing():
    assert not check("https://mycompany.com", "/myapp.php?foo=1", '{"a": 1}',
                     "a9nBmqA0ju/hNViExpshrM61xv4=", content_type="application/json")
