"""The softphone's own sounds (issue 14 item 1): the agent console hands `Twilio.Device` a URL
on this app for every sound the vendored SDK would otherwise fetch from sdk.twilio.com, each
answers 200 with an audio type, and the console's policy names sdk.twilio.com nowhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from ivr.config.settings import REPO_ROOT
from tests import signin
from tests.dashboards.test_softphone_token import APP_SID, KEY_SID, SECRET, make_app

BUNDLE = REPO_ROOT / "dashboards" / "static" / "vendor" / "twilio-voice" / "twilio.min.js"


@pytest.fixture
def app(redis_url: str, redis, tmp_path: Path) -> Flask:  # noqa: ARG001 - redis flushes
    return make_app(redis_url, tmp_path, twilio_account_sid="AC" + "c3" * 16,
                    twilio_api_key_sid=KEY_SID, twilio_api_key_secret=SECRET,
                    twilio_twiml_app_sid=APP_SID)


def sdk_sound_names() -> set[str]:
    """The sounds the vendored SDK loads (`Device._defaultSounds`), read from the bundle, so
    an SDK refresh that adds one fails here until we ship it too."""
    block = re.search(r"_defaultSounds=\{(.*?)\};return Device", BUNDLE.read_text()).group(1)
    return set(re.findall(r"(\w+):\{filename:", block))


def page_data(html: str) -> dict:  # type: ignore[type-arg]
    raw = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html,
                    re.S).group(1)
    return json.loads(raw)


def test_every_sdk_sound_is_served_by_this_app(app: Flask):
    alice = signin.signed_in(app, "alice")
    page = alice.get("/agent")
    sounds = page_data(page.get_data(as_text=True))["softphone"]["sounds"]
    assert len(sdk_sound_names()) == 15
    assert set(sounds) == sdk_sound_names()
    assert len(set(sounds.values())) == 15  # one file each, none shared by mistake
    for name, url in sounds.items():
        assert url.startswith("/static/sounds/softphone/"), (name, url)  # this origin
        answer = alice.get(url)
        assert answer.status_code == 200, (name, url)
        assert answer.mimetype == "audio/mpeg", (name, answer.mimetype)
        assert len(answer.get_data()) > 500, (name, url)  # a real file, not an empty one
    policy = page.headers["Content-Security-Policy"]
    assert "sdk.twilio.com" not in policy
    assert "media-src" not in policy
    assert "wss://*.twilio.com" in policy  # signalling is still allowed on the console


def test_a_phone_number_agent_gets_no_sounds(app: Flask):
    bob = signin.signed_in(app, "bob")  # bob takes calls on a phone: no Device, no sounds
    softphone = page_data(bob.get("/agent").get_data(as_text=True))["softphone"]
    assert softphone == {"mode": "phone", "identity": None}


def test_a_missing_sound_is_a_404_not_a_fallback(app: Flask):
    alice = signin.signed_in(app, "alice")
    assert alice.get("/static/sounds/softphone/cowbell.mp3").status_code == 404
