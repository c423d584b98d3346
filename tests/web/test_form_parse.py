"""The lane's one-pass form parser (ivr/web/form_parse.py, IVR_FAST_FORM) reads every body it
accepts exactly as `urllib.parse.parse_qsl` and werkzeug's `request.form` do, and refuses
(so the lane hands the request to Flask) exactly the bodies those would read differently."""

from __future__ import annotations

import io
import uuid
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import create_environ
from werkzeug.wrappers import Request

from ivr import create_app
from ivr.flows.publishing import CONVERGE_DUE
from ivr.phone.twilio_auth import FormValues
from ivr.web.form_parse import library_form, parse_form
from tests.web.conftest import BASE, sign, standard_params, web_settings
from tests.web.test_webhook_lane import lane, play

FORM = "application/x-www-form-urlencoded"
# What url-encoded bodies are made of, edge cases included: separators, `+`, escapes that
# are valid, invalid as escapes (%zz, a lone %), or unquote to bytes that are not UTF-8
# (%FF, a cut-off sequence), raw UTF-8 and raw bytes that are not UTF-8.
FRAGMENTS = [b"a", b"B", b"CallSid", b"From", b"=", b"&", b"&&", b"+", b"%", b"%2", b"%2B",
             b"%2b", b"%3D", b"%26", b"%20", b"%C3%A9", b"%e2%82%ac", b"%FF", b"%e2%82",
             b"%zz", b"%%", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\x00", b" ", b";", b"1"]
BODIES = st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join),
                   st.binary(max_size=60),
                   st.text(max_size=40).map(lambda t: t.encode("utf-8")))


def werkzeug_form(raw: bytes) -> list[tuple[str, list[str]]]:
    """What a Flask view's `request.form` holds for this body, name by name."""
    req = Request(create_environ(method="POST", input_stream=io.BytesIO(raw),
                                 content_type=FORM, content_length=len(raw)))
    return list(req.form.lists())


def strict_pairs(raw: bytes) -> list[tuple[str, str]] | None:
    """parse_qsl's pairs when nothing in the body needs its error handler, else None."""
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None


@settings(max_examples=3000, deadline=None)
@given(BODIES)
def test_the_one_pass_parse_is_the_libraries_parse(raw: bytes) -> None:
    fast, library = parse_form(raw), library_form(raw)
    if strict_pairs(raw) is None:
        assert fast is None  # not UTF-8, or %XX that unquote to bytes that are not
        return
    assert fast is not None
    assert library is not None
    values, first = fast
    assert list(values.items()) == list(library[0].items())  # names in order, all values
    assert first == library[1]
    assert list(first) == list(library[1])
    assert list(values.items()) == werkzeug_form(raw)
    assert type(values) is FormValues  # what twilio's validator reads with getall


@pytest.mark.parametrize(("raw", "expected"), [
    (b"a=1&b=2", [("a", ["1"]), ("b", ["2"])]),
    (b"a=x+y&b=%2B1%20415", [("a", ["x y"]), ("b", ["+1 415"])]),
    (b"a=1&a=2&b=&a=3", [("a", ["1", "2", "3"]), ("b", [""])]),
    (b"flag&=v&&x=", [("flag", [""]), ("", ["v"]), ("x", [""])]),
    (b"a=%zz&b=%4&c=%", [("a", ["%zz"]), ("b", ["%4"]), ("c", ["%"])]),
    (b"n%C3%A9=caf%C3%A9&e=\xe2\x82\xac", [("n\u00e9", ["caf\u00e9"]), ("e", ["\u20ac"])]),
    (b"a=1=2;b=3", [("a", ["1=2;b=3"])]),
    (b"", []),
])
def test_edge_cases(raw: bytes, expected: list[tuple[str, list[str]]]) -> None:
    parsed = parse_form(raw)
    assert parsed is not None
    assert list(parsed[0].items()) == expected == werkzeug_form(raw)
    assert library_form(raw) == parsed


@pytest.mark.parametrize("raw", [b"a=%FF", b"a=%e2%82", b"%C3=1", b"a=\xff", b"a=caf\xe9"])
def test_bodies_the_libraries_read_differently_are_refused(raw: bytes) -> None:
    """parse_qsl would say U+FFFD, werkzeug the escape itself (or nothing for raw bytes):
    the lane leaves such a request to Flask."""
    assert parse_form(raw) is None


@pytest.fixture
def app_slow_form(redis_url: str, redis, tmp_path):  # noqa: ARG001 - redis flushes
    application = create_app(web_settings(redis_url, tmp_path, fast_form=False))
    application.testing = True
    return application


def test_the_lane_answers_a_call_alike_either_way(app, app_slow_form) -> None:
    assert lane(app)._parse_form is parse_form
    assert lane(app_slow_form)._parse_form is library_form
    fast, slow = play(app, through_lane=True), play(app_slow_form, through_lane=True)
    assert fast == slow
    assert [status for status, _, _ in fast] == [200] * len(fast)


def test_a_body_the_fast_parse_refuses_is_answered_by_flask(app) -> None:
    """Signed as werkzeug reads it (a %FF kept as written): the lane hands it over and
    Flask's view answers it, as with IVR_WEBHOOK_LANE=0."""
    app.extensions[CONVERGE_DUE] = float("inf")
    params = standard_params("CA" + uuid.uuid4().hex)
    body = urlencode(params) + "&Extra=%FF"
    before = lane(app).served
    resp = app.test_client().post(
        "/voice", data=body, content_type=FORM,
        headers={"X-Twilio-Signature": sign(BASE + "/voice", {**params, "Extra": "%FF"})})
    assert resp.status_code == 200
    assert b"<Gather" in resp.data
    assert lane(app).served == before
