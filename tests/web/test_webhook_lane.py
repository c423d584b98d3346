"""The fast lane in front of Flask (ivr/web/webhook_lane.py) answers the three busiest
webhooks exactly as the Flask views do, and hands everything it is not sure of to Flask."""

from __future__ import annotations

import logging
import uuid

import pytest
from flask import Flask
from prometheus_client import REGISTRY

from ivr.domain.errors import ConfigError
from ivr.flows.publishing import CONVERGE_DUE
from ivr.web.webhook_lane import LANE_HOOKS, WebhookLane, flask_hooks, undeclared_hooks
from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import BASE, sign, standard_params, web_settings

CALL: tuple[tuple[str, dict[str, str]], ...] = (
    ("/voice", {}), ("/voice/next?seq=1", {"Digits": "1"}), ("/voice/next?seq=2", {"Digits": "3"}),
    ("/voice/status", {"CallStatus": "completed"}))


def lane(app: Flask) -> WebhookLane:
    assert isinstance(app.wsgi_app, WebhookLane)
    return app.wsgi_app


def play(app: Flask, through_lane: bool) -> list[tuple[int, str, bytes]]:
    """One call's webhooks, answered by the lane or (bypassing it) by Flask alone."""
    wsgi = lane(app)
    client = app.test_client()
    sid = "CA" + uuid.uuid4().hex
    out = []
    for path, extra in CALL:
        params = standard_params(sid, **extra)
        if through_lane:
            app.extensions[CONVERGE_DUE] = float("inf")  # no convergence hand-over
        else:
            app.wsgi_app = wsgi.flask_wsgi  # type: ignore[method-assign]
        resp = client.post(path, data=params,
                           headers={"X-Twilio-Signature": sign(BASE + path, params)})
        app.wsgi_app = wsgi  # type: ignore[method-assign]
        out.append((resp.status_code, resp.headers["Content-Type"],
                    resp.data.replace(sid.encode(), b"SID")))
    return out


def test_lane_answers_what_the_flask_views_answer(app: Flask) -> None:
    before = lane(app).served
    fast = play(app, through_lane=True)
    assert lane(app).served - before == len(CALL)
    slow = play(app, through_lane=False)
    assert lane(app).served - before == len(CALL)  # the Flask-only call did not touch it
    assert fast == slow
    for status, content_type, body in fast:
        assert (status, content_type) == (200, "text/xml; charset=utf-8")
        assert_valid_twiml(body)


def test_a_forged_webhook_is_handed_to_flask_and_refused(app: Flask, post) -> None:
    app.extensions[CONVERGE_DUE] = float("inf")
    before = lane(app).served
    params = standard_params("CA" + uuid.uuid4().hex)
    resp = app.test_client().post("/voice", data=params,
                                  headers={"X-Twilio-Signature": sign(BASE + "/other", params)})
    assert resp.status_code == 403
    assert post("/voice", params, signed=False).status_code == 403
    assert lane(app).served == before


def test_when_flows_are_due_for_convergence_flask_takes_the_request(app: Flask, post) -> None:
    app.extensions[CONVERGE_DUE] = 0.0
    before = lane(app).served
    assert post("/voice", standard_params("CA" + uuid.uuid4().hex)).status_code == 200
    assert lane(app).served == before
    assert app.extensions[CONVERGE_DUE] > 0  # Flask's hook ran and set the next time


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_failure_in_the_lane_is_the_fallback_route_logged_with_the_sid(
        app: Flask, post, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    app.extensions[CONVERGE_DUE] = float("inf")
    svc = app.extensions["ivr"]

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("flow engine exploded")

    monkeypatch.setattr(svc.calls, "start", broken)
    sid = "CA" + uuid.uuid4().hex
    fallbacks = sample("ivr_fallbacks_total", endpoint="voice.incoming_call")
    answered = sample("ivr_webhook_responses_total", endpoint="voice.incoming_call", code="200")
    before = lane(app).served
    with caplog.at_level(logging.ERROR):
        resp = post("/voice", standard_params(sid))
    assert lane(app).served == before + 1
    assert resp.status_code == 200
    assert b"<Enqueue" in resp.data
    assert b"something went wrong" in resp.data
    assert_valid_twiml(resp.data)
    assert sid in caplog.text
    assert "flow engine exploded" in caplog.text
    assert sample("ivr_fallbacks_total", endpoint="voice.incoming_call") == fallbacks + 1
    assert sample("ivr_webhook_responses_total", endpoint="voice.incoming_call",
                  code="200") == answered + 1


def test_other_paths_and_bodies_go_to_flask(app: Flask) -> None:
    app.extensions[CONVERGE_DUE] = float("inf")
    client = app.test_client()
    before = lane(app).served
    assert client.get("/healthz").status_code == 200
    resp = client.post("/voice", data="{}", content_type="application/json",
                       headers={"X-Twilio-Signature": "x"})
    assert resp.status_code == 403  # Flask's full check: the JSON body is not signed
    assert lane(app).served == before


def test_the_lane_knows_every_flask_hook_of_the_app(app: Flask) -> None:
    """Each hook Flask runs for the voice webhooks is listed in LANE_HOOKS with what the lane
    does instead, and nothing listed is gone."""
    assert undeclared_hooks(app) == []
    assert flask_hooks(app) == set(LANE_HOOKS)


@pytest.mark.parametrize(("kind", "registry"), [
    ("before_request", "before_request"), ("after_request", "after_request"),
    ("teardown_request", "teardown_request"),
    ("url_value_preprocessor", "url_value_preprocessors")])
def test_a_hook_the_lane_would_skip_stops_the_app(app: Flask, kind: str, registry: str) -> None:
    def audit_every_request(*args: object) -> object:
        return args[0] if kind == "after_request" else None

    getattr(app, kind)(audit_every_request)
    assert undeclared_hooks(app) == [
        f"not in LANE_HOOKS: {registry} {__name__}:{audit_every_request.__qualname__}"]
    with pytest.raises(RuntimeError, match="audit_every_request"):
        WebhookLane(app, lane(app).flask_wsgi)


def test_a_blueprint_hook_of_the_voice_views_counts_too(app: Flask) -> None:
    def voice_only() -> None:
        return None

    app.before_request_funcs.setdefault("voice", []).append(voice_only)
    assert any("voice_only" in problem for problem in undeclared_hooks(app))
    app.before_request_funcs.setdefault("agents", []).append(voice_only)  # not the lane's
    assert len(undeclared_hooks(app)) == 1


def test_the_lane_switch_leaves_every_webhook_to_flask(redis_url: str, redis, tmp_path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       ) -> None:
    from ivr import create_app

    monkeypatch.setenv("IVR_WEBHOOK_LANE", "0")
    app = create_app(web_settings(redis_url, tmp_path, twilio_account_sid="AC" + "1" * 32))
    assert not isinstance(app.wsgi_app, WebhookLane)
    params = standard_params("CA" + uuid.uuid4().hex)
    resp = app.test_client().post("/voice", data=params,
                                  headers={"X-Twilio-Signature": sign(BASE + "/voice", params)})
    assert resp.status_code == 200
    assert_valid_twiml(resp.data)
    monkeypatch.setenv("IVR_WEBHOOK_LANE", "maybe")
    with pytest.raises(ConfigError, match="IVR_WEBHOOK_LANE='maybe'"):
        create_app({"redis_url": redis_url})
