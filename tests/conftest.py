"""Shared fixtures, flaskr-style: `redis_url`, `redis` (a real server on an isolated, flushed db).

PostgreSQL: with DATABASE_URL naming one, each test gets its own schema (`database_per_test`).
Redis: `REDIS_URL` when set (CI on this machine: 127.0.0.1:6379), else the embedded server,
started once per session under a temporary folder. Both are real servers over real sockets.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis as redis_lib

from ivr.store.embedded_redis import EmbeddedRedis
from tests.longest_first import longest_files_first

MARKER = "ivr-test:claimed"
REDIS_SERVER_FIXTURE = "redis_server_url"  # every fixture that reaches the Redis server uses it


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--only-redis-tests", action="store_true",
        help="run only the tests whose fixtures reach the Redis server (redis_server_url) "
             "and that leave its script cache alone (not marked flushes_scripts): bin/dev "
             "test's second pass, on one standalone Redis its processes share")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--only-redis-tests`: the rest are deselected (they ran in the first pass, and a test
    that never reaches the Redis server runs the same on any). In an xdist worker the files
    are ordered longest first (tests/longest_first.py), so no process ends a pass alone.

    A test that reaches the Redis server through REDIS_URL in the environment, not through
    a fixture, asks for `redis_server_url` too, or the second pass leaves it out. Tests marked
    `flushes_scripts` are left out too: SCRIPT FLUSH empties the cache of the whole server,
    and on the one server both processes of that pass share, another test's EVALSHA then met
    NOSCRIPT mid-test (test_lean_redis counted its kept connection handed back). In the
    first pass each process has its own embedded server."""
    if config.getoption("only_redis_tests"):
        keep, drop = [], []
        for item in items:
            reaches = REDIS_SERVER_FIXTURE in getattr(item, "fixturenames", ())
            shared_safe = item.get_closest_marker("flushes_scripts") is None
            (keep if reaches and shared_safe else drop).append(item)
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    if hasattr(config, "workerinput"):
        items[:] = longest_files_first(items)


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001 - pytest's hook signature
    """The app refuses to start without a strong session key (ivr/config/settings.py): every app and
    server of this test run shares one random key, as `ivr demo` does (issue 12)."""
    from ivr.config.secret_key import secret_key_problem

    if secret_key_problem(os.environ.get("SECRET_KEY")):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)


@pytest.fixture(autouse=True)
def database_per_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With DATABASE_URL naming PostgreSQL: this test's own schema, named by DATABASE_URL for
    every app, command and helper the test runs, dropped afterwards (tests/pg_schemas.py).
    Otherwise nothing: apps default to SQLite in each test's own instance folder."""
    from tests.pg_schemas import SERVER_URL, fresh_schema

    if SERVER_URL is None:
        yield
        return
    with fresh_schema(SERVER_URL) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis"))).start()
    try:
        yield server.url
    finally:
        server.stop()


def with_db(url: str, db: int) -> str:
    """The same server URL pointed at database `db` (tcp `redis://h:p/N` or `unix://path?db=N`)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


def _claim_empty_db(base_url: str) -> int:
    """Like rq's find_empty_redis_database: take the first empty db 1..15 and mark it ours,
    so two test runs on one shared server (two developers, CI) never flush each other."""
    for db in range(1, 16):
        conn = redis_lib.Redis.from_url(with_db(base_url, db))
        if conn.set(MARKER, str(os.getpid()), nx=True, ex=3600) and conn.dbsize() == 1:
            return db
    raise RuntimeError("no empty Redis database among 1..15 to run tests in")


@pytest.fixture(scope="session")
def redis_db(redis_server_url: str) -> Iterator[int]:
    db = _claim_empty_db(redis_server_url)
    yield db
    redis_lib.Redis.from_url(with_db(redis_server_url, db)).flushdb()


@pytest.fixture
def redis_url(redis_server_url: str, redis_db: int) -> str:
    return with_db(redis_server_url, redis_db)


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    conn = redis_lib.Redis.from_url(redis_url)
    _flush_keep_marker(conn)
    yield conn
    _flush_keep_marker(conn)
    conn.close()


def _flush_keep_marker(conn: redis_lib.Redis) -> None:
    """Empty the db and mark it ours again in one transaction: between a plain FLUSHDB and the
    SET, another test process claiming a db (`_claim_empty_db`) found this one empty and
    unclaimed and took it too. Both then ran in one db (CI, pass 2 on a shared server: 42
    tests failed with each other's events, queue figures and consumer groups)."""
    with conn.pipeline(transaction=True) as pipe:
        pipe.flushdb()
        pipe.set(MARKER, str(os.getpid()), ex=3600)
        pipe.execute()


@pytest.fixture(autouse=True)
def _no_worker_context_leaks() -> Iterator[None]:
    """Worker contexts are kept per Redis connection (host, port, db, path) for the life of
    a worker process. In one test process the next test's Redis has the same key, so a
    context installed by an earlier test (its Twilio stand-in long gone) answered for the
    next one: the transcription jobs fetched from a dead API (CI, stop 11). Each test starts
    with none."""
    yield
    from queue_worker import context, followup

    context._CONTEXTS.clear()
    followup._CONTEXTS.clear()
