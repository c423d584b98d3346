"""`/metrics` behind a bearer token when `IVR_METRICS_TOKEN` is set (issue 12, item 7e)."""

from __future__ import annotations

from flask import Flask

from ivr import create_app
from tests.web.conftest import TOKEN

METRICS_TOKEN = "scrape-me-" + "x" * 24


def _app(redis_url: str, tmp_path, **extra: str) -> Flask:
    return create_app({"redis_url": redis_url, "twilio_auth_token": TOKEN,
                       "instance_dir": tmp_path / "instance", "dev_mode": True, **extra})


def test_token_set_means_401_without_the_bearer(redis_url: str, redis, tmp_path) -> None:
    client = _app(redis_url, tmp_path, metrics_token=METRICS_TOKEN).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"ivr_" not in refused.data
    for wrong in ("Bearer nope", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x",
                  METRICS_TOKEN):
        assert client.get("/metrics", headers={"Authorization": wrong}).status_code == 401
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status_code == 200
    assert b"ivr_" in allowed.data


def test_token_from_the_environment(redis_url: str, redis, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IVR_METRICS_TOKEN", METRICS_TOKEN)
    assert _app(redis_url, tmp_path).test_client().get("/metrics").status_code == 401


def test_unset_is_open_as_before(redis_url: str, redis, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("IVR_METRICS_TOKEN", raising=False)
    answer = _app(redis_url, tmp_path).test_client().get("/metrics")
    assert answer.status_code == 200
    assert b"ivr_" in answer.data
