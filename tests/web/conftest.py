"""Fixtures for webhook tests: an app on the real Redis, and `post` that signs like Twilio."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token"
BASE = "https://ivr.example.test"


def web_settings(redis_url: str, tmp_path: Path, **more: Any) -> dict[str, Any]:
    """`create_app` overrides of a webhook test's app, written once: signed with TOKEN at
    BASE, on `redis_url`, its own instance folder and no prompt audio (<Say> text, whatever
    is built locally). `more` adds or replaces settings (by Config field name)."""
    return {"redis_url": redis_url, "twilio_auth_token": TOKEN, "public_base_url": BASE,
            "instance_dir": tmp_path / "instance", "prompts_audio_dir": tmp_path / "no-audio",
            **more}


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    from ivr import create_app

    application = create_app(web_settings(redis_url, tmp_path,
                                          twilio_account_sid="AC" + "1" * 32))
    application.testing = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(TOKEN).compute_signature(url, params)


def standard_params(call_sid: str, **extra: str) -> dict[str, str]:
    """What Twilio always sends (WEBHOOKS.md 3.1), plus the webhook's own parameters."""
    return {
        "CallSid": call_sid, "AccountSid": "AC" + "1" * 32, "From": "+14155550100",
        "To": "+18005550100", "CallStatus": "in-progress", "ApiVersion": "2010-04-01",
        "Direction": "inbound", "Caller": "+14155550100", "Called": "+18005550100",
        **extra,
    }


@pytest.fixture
def post(client: FlaskClient) -> Callable[..., object]:
    """post(path_with_query, params) -> response, signed for BASE + path."""

    def _post(path: str, params: dict[str, str], signed: bool = True):
        headers = {"X-Twilio-Signature": sign(BASE + path, params)} if signed else {}
        return client.post(path, data=params, headers=headers)

    return _post


@pytest.fixture
def call_sid() -> str:
    return "CA" + uuid.uuid4().hex
