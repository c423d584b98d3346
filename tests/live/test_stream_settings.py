"""The stream service's settings and where `ivr serve` tells the pages to find it."""

from __future__ import annotations

import pytest

from ivr.config.settings import Config, from_env
from ivr.domain.errors import ConfigError
from ivr.live.running import browser_stream_url
from ivr.live.settings import origin_of, stream_settings


def test_settings_come_from_the_environment_with_bounded_defaults():
    defaults = stream_settings(from_env({"PUBLIC_BASE_URL": "https://ivr.example.com/"}))
    assert (defaults.max_clients, defaults.recheck_seconds, defaults.auth_threads,
            defaults.stream_seconds) == (300, 15, 2, 300)
    assert defaults.origins == {"https://ivr.example.com"}
    tuned = stream_settings(from_env({
        "IVR_STREAM_MAX_CLIENTS": "40", "IVR_STREAM_RECHECK": "2.5",
        "IVR_STREAM_AUTH_THREADS": "3", "IVR_STREAM_SECONDS": "20",
        "IVR_STREAM_URL": "http://127.0.0.1:5001/",
        "IVR_WEB_ORIGINS": "http://127.0.0.1:5000, http://LOCALHOST:5000/wallboard"}))
    assert (tuned.max_clients, tuned.recheck_seconds, tuned.auth_threads,
            tuned.stream_seconds) == (40, 2.5, 3, 20)
    assert tuned.origins == {"http://127.0.0.1:5000", "http://localhost:5000"}
    assert from_env({"IVR_STREAM_URL": "http://127.0.0.1:5001/"}).stream_url == (
        "http://127.0.0.1:5001")


@pytest.mark.parametrize(("variable", "value"), [
    ("IVR_STREAM_MAX_CLIENTS", "lots"), ("IVR_STREAM_MAX_CLIENTS", "0"),
    ("IVR_STREAM_RECHECK", "-1"), ("IVR_STREAM_AUTH_THREADS", "1.5"),
    ("IVR_STREAM_SECONDS", "0"),
    ("IVR_WEB_ORIGINS", "ftp://files.example")])
def test_a_bad_value_names_the_variable(variable: str, value: str):
    with pytest.raises(ConfigError, match=variable if variable != "IVR_WEB_ORIGINS" else "ftp"):
        stream_settings(from_env({variable: value}))


def test_a_stream_url_must_be_http():
    with pytest.raises(ConfigError, match="IVR_STREAM_URL"):
        Config(dev_mode=True, stream_url="127.0.0.1:5001").validate()


def test_origins_are_what_browsers_send():
    assert origin_of("https://IVR.example.com:443/x") == "https://ivr.example.com"
    assert origin_of("http://127.0.0.1:80") == "http://127.0.0.1"
    assert origin_of("http://[::1]:5000/") == "http://[::1]:5000"


def test_ivr_serve_points_pages_at_the_stream_service_the_browser_can_reach():
    assert browser_stream_url("127.0.0.1", 5001, "http://127.0.0.1:5000") == (
        "http://127.0.0.1:5001")
    assert browser_stream_url("::1", 5001, "http://[::1]:5000") == "http://[::1]:5001"
    # all interfaces, plain http: the public host name with the stream port
    assert browser_stream_url("0.0.0.0", 5001, "http://10.0.0.5:5000") == (
        "http://10.0.0.5:5001")
    # all interfaces behind a TLS proxy: the page's own origin (the proxy routes the path)
    assert browser_stream_url("0.0.0.0", 5001, "https://ivr.example.com") is None
