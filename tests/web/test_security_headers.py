"""Security headers (ivr/web/security_headers.py): every page and API answer carries the
Content-Security-Policy, nosniff and Referrer-Policy; TwiML answers (Twilio reads them, not a
browser) carry none, whether the webhook lane or Flask answered. The browser tests
(tests/browser/test_page_security.py) check the same headers on every page as Chromium sees
them, and fail any page that breaks the policy."""

from __future__ import annotations

from ivr.web.security_headers import content_security_policy, stream_origin
from tests.web.conftest import standard_params

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
          "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def test_pages_and_apis_carry_the_headers(client) -> None:  # noqa: ANN001
    for path in ("/login", "/admin/flows", "/api/tasks", "/static/pages/base.css"):
        answer = client.get(path)
        assert answer.headers.get("Content-Security-Policy") == POLICY, path
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", path
        assert answer.headers.get("Referrer-Policy") == "same-origin", path
        assert answer.headers.get("X-Frame-Options") == "DENY", path


def test_twiml_answers_carry_none(post, call_sid) -> None:  # noqa: ANN001
    lane = post("/voice", standard_params(call_sid))  # the webhook lane answers this one
    flask = post("/voice/status", standard_params(call_sid, CallStatus="completed"),
                 signed=False)  # 403 from Flask: not XML, so it is a page-like answer
    assert lane.status_code == 200
    assert lane.mimetype == "text/xml"
    assert "Content-Security-Policy" not in lane.headers
    assert flask.status_code == 403
    assert flask.headers.get("X-Content-Type-Options") == "nosniff"


def test_twiml_from_flask_carries_none(post, call_sid) -> None:  # noqa: ANN001
    answer = post("/voice/fallback", standard_params(call_sid))
    assert answer.status_code == 200
    assert answer.mimetype == "text/xml"
    assert "Content-Security-Policy" not in answer.headers
    assert "X-Content-Type-Options" not in answer.headers


def test_the_stream_service_origin_may_be_connected_to() -> None:
    policy = content_security_policy("https://stream.example.com:8443/wallboard/events?x=1")
    assert "connect-src 'self' https://stream.example.com:8443;" in policy
    assert stream_origin("/wallboard/events") is None  # same origin: 'self' covers it
    assert stream_origin(None) is None
    assert content_security_policy(None) == POLICY


def test_pages_may_connect_to_the_stream_service(app, client) -> None:  # noqa: ANN001
    """The wallboard's stream service on another origin (IVR_STREAM_URL, set by `ivr serve`
    after the app is built, as tests/stream_service.py does): the pages may open it."""
    app.config["IVR"] = app.config["IVR"].with_overrides(stream_url="http://127.0.0.1:5001")
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:5001;" in policy


def test_only_the_agent_console_may_reach_twilio() -> None:
    """The softphone (Twilio's Voice SDK) signals over wss to Twilio and posts call-quality
    insights over https; its sounds are the app's own (issue 14), so no media origin is added
    and sdk.twilio.com is named nowhere; scripts come from this origin only (vendored SDK)."""
    policy = content_security_policy(None, softphone=True)
    assert "connect-src 'self' wss://*.twilio.com https://*.twilio.com;" in policy
    assert "media-src" not in policy  # default-src 'self' covers the sounds
    assert "sdk.twilio.com" not in policy
    assert "script-src 'self';" in policy
    assert "twilio" not in content_security_policy(None)
