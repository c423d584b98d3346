"""Every pool has a named limit (issue 12): Redis clients get a blocking pool of
IVR_REDIS_MAX_CONNECTIONS that makes a burst wait up to IVR_REDIS_POOL_TIMEOUT instead of
failing, database engines a QueuePool of IVR_DB_POOL_SIZE + IVR_DB_MAX_OVERFLOW, and the web
app's own clients and engines take those settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ivr.config.settings import from_env
from ivr.domain.errors import ConfigError
from ivr.store import redis_connect
from ivr.store.db import make_engine


def test_pool_settings_are_read_and_bad_values_named():
    config = from_env({"IVR_REDIS_MAX_CONNECTIONS": "12", "IVR_REDIS_POOL_TIMEOUT": "0.5",
                       "IVR_DB_POOL_SIZE": "3", "IVR_DB_MAX_OVERFLOW": "0",
                       "IVR_DB_POOL_TIMEOUT": "2", "IVR_THREADS": "6"})
    assert config.redis_pool() == {"max_connections": 12, "pool_timeout": 0.5}
    assert config.db_pool() == {"pool_size": 3, "max_overflow": 0, "pool_timeout": 2.0}
    assert config.web_threads == 6
    assert from_env({}).redis_pool() == {"max_connections": 50, "pool_timeout": 5.0}
    for name, value in (("IVR_REDIS_MAX_CONNECTIONS", "lots"), ("IVR_DB_POOL_SIZE", "0"),
                        ("IVR_THREADS", "2.5"), ("IVR_DB_POOL_TIMEOUT", "-1")):
        with pytest.raises(ConfigError, match=f"^{name}='{value}': use a "):
            from_env({name: value})


def test_a_burst_past_the_redis_limit_waits_for_a_connection_instead_of_failing(
        redis_url: str, redis):  # noqa: ARG001 - flushes the db
    client = redis_connect.connect(redis_url, max_connections=2, pool_timeout=5,
                                   client_name="ivr-test-burst")
    pool = client.connection_pool
    busy = [pool.get_connection(), pool.get_connection()]  # two requests in flight
    threading.Timer(0.3, lambda: [pool.release(c) for c in busy]).start()
    started = time.monotonic()
    assert client.incr("n") == 1  # waited for one to come back
    assert time.monotonic() - started >= 0.2
    assert len(pool._connections) == 2
    names = {c.get("name") for c in client.client_list()}
    assert "ivr-test-burst" in names
    short = redis_connect.connect(redis_url, max_connections=1, pool_timeout=0.1)
    held = short.connection_pool.get_connection()
    with pytest.raises(redis_lib.ConnectionError):
        short.get("n")  # past the wait: an error the webhook turns into the fallback route
    short.connection_pool.release(held)


def test_a_sentinel_client_has_the_same_blocking_limit():
    client = redis_connect.connect("redis+sentinel://127.0.0.1:1/ivr/0", max_connections=7,
                                   pool_timeout=1.5)  # no sentinel needed until a command
    pool = client.connection_pool
    assert isinstance(pool, redis_lib.BlockingConnectionPool)
    assert isinstance(pool, redis_connect.PrimaryWatchingPool)
    assert (pool.max_connections, pool.timeout) == (7, 1.5)


def test_a_database_engine_keeps_at_most_size_plus_overflow(db_url: str):
    engine = make_engine(db_url, pool_size=2, max_overflow=1, pool_timeout=0.2)
    try:
        conns = [engine.raw_connection() for _ in range(3)]  # three threads' checkouts
        with pytest.raises(PoolTimeout):
            engine.raw_connection()  # a fourth waits 0.2 s, then fails: never a fourth
        for conn in conns:
            conn.close()
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()
    make_engine("sqlite://", pool_size=2, max_overflow=1).dispose()  # memory: no limits


def test_the_web_apps_clients_and_engines_take_the_settings(redis_url: str, tmp_path: Path):
    from ivr import create_app

    app = create_app({"redis_url": redis_url, "dev_mode": True, "instance_dir": tmp_path,
                      "redis_max_connections": 9, "redis_pool_timeout": 0.7,
                      "db_pool_size": 2, "db_max_overflow": 1, "db_pool_timeout": 3.0})
    pool = app.extensions["ivr"].redis.connection_pool
    assert (pool.max_connections, pool.timeout) == (9, 0.7)
    assert pool.connection_kwargs["client_name"].startswith("ivr-web-")
    with app.app_context():
        from dashboards.admin_support import publisher
        from dashboards.auth import user_engine

        for engine in (user_engine(), publisher().sessions.kw["bind"]):
            assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (
                2, 1, 3.0)
