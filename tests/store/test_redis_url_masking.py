"""A bad REDIS_URL is reported with its passwords masked (`redis://:***@host`), never echoed
(issue 12, item 7d): the message reaches logs and the terminal."""

from __future__ import annotations

import pytest

from ivr.config.settings import Config
from ivr.domain.errors import ConfigError
from ivr.store.redis_connect import RedisUrlError, check_url, masked_url


@pytest.mark.parametrize(("url", "shown"), [
    ("http://:hunter2@cache.example:6379/0", "http://:***@cache.example:6379/0"),
    ("redis://app:hunter2@cache.example:port/0", "redis://app:***@cache.example:port/0"),
])
def test_bad_url_error_masks_the_password(url: str, shown: str) -> None:
    with pytest.raises(RedisUrlError) as refused:
        check_url(url)
    assert "hunter2" not in str(refused.value)
    assert shown in str(refused.value)
    with pytest.raises(ConfigError) as at_start:
        Config(redis_url=url, dev_mode=True).validate()
    assert "hunter2" not in str(at_start.value)
    assert shown in str(at_start.value)


def test_masked_url_hides_every_secret() -> None:
    assert masked_url("redis+sentinel://:pw1@a:26379,b:26379/svc/2?sentinel_password=pw2") == (
        "redis+sentinel://:***@a:26379,b:26379/svc/2?sentinel_password=***")
    assert masked_url("rediss://token@cache.example:6380") == "rediss://***@cache.example:6380"
    assert masked_url("redis://cache.example:6379/1") == "redis://cache.example:6379/1"
    assert masked_url("unix:///run/redis.sock?db=3&password=pw") == (
        "unix:///run/redis.sock?db=3&password=***")


def test_good_urls_still_pass() -> None:
    for url in ("redis://:pw@127.0.0.1:6379/0", "unix:///tmp/r.sock?db=1",
                "redis+sentinel://127.0.0.1:26379/svc"):
        check_url(url)
