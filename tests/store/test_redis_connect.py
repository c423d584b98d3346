"""REDIS_URL to client (ivr/store/redis_connect.py): URLs are read or refused at startup, and
on a real Sentinel deployment a quiet client follows a failover within a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from ivr.config.settings import from_env
from ivr.domain.errors import ConfigError
from ivr.store import redis_connect
from ivr.store.redis_connect import RedisUrlError, parse_sentinel_url
from tests.sentinel_set import SERVICE, SentinelSet


def test_a_sentinel_url_names_sentinels_service_database_and_passwords():
    sentinels, service, data, sentinel = parse_sentinel_url(
        "redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380,10.0.0.3/calls/2"
        "?sentinel_password=watch")
    assert sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("10.0.0.3", 26379)]
    assert service == "calls"
    assert data == {"db": 2, "password": "s@cret"}
    assert sentinel == {"password": "watch"}
    assert parse_sentinel_url("rediss+sentinel://h:1/s")[2] == {"ssl": True}


@pytest.mark.parametrize(("url", "reason"), [
    ("redis+sentinel://10.0.0.1:26379", "the service"),
    ("redis+sentinel://10.0.0.1:port/calls", "no valid port"),
    ("redis+sentinel://10.0.0.1/calls/zero", "not a number"),
    ("http://10.0.0.1:6379", "the scheme must be"),
])
def test_a_bad_redis_url_is_refused_when_the_config_loads(url: str, reason: str,
                                                          monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(RedisUrlError, match=reason):
        redis_connect.check_url(url)
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("IVR_DEV_MODE", "1")
    with pytest.raises(ConfigError, match=reason):
        from_env().validate()


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    deployment = SentinelSet(tmp_path).start()
    try:
        yield deployment
    finally:
        deployment.stop()


def test_a_quiet_client_writes_to_the_new_primary_a_second_after_a_failover(sentinel_set):
    conn = redis_connect.connect(sentinel_set.url)
    conn.set("before", 1)  # the pool now holds a connection to the old primary
    old = sentinel_set.primary_port()
    sentinel_set._sentinel().execute_command("SENTINEL", "FAILOVER", SERVICE)
    deadline = time.monotonic() + 20
    while sentinel_set.primary_port() == old:
        assert time.monotonic() < deadline, "no failover"
        time.sleep(0.05)
    new = sentinel_set.primary_port()
    time.sleep(redis_connect.PRIMARY_RECHECK_S + 0.2)
    still_primary = redis_lib.Redis(port=old).info("replication")["role"] == "master"
    conn.set("after", 1)
    assert redis_lib.Redis(port=new).get("after") == b"1"
    # The case the watch is for: the old primary was still taking writes (its demotion comes
    # later), which plain redis-py would have sent there and the resync would have dropped.
    assert still_primary
