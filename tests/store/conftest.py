"""Database fixtures: `db_url` (an empty database), `db_engine` (migrated), `session_factory`.

`db_url` is parametrised: SQLite in a temporary file, and PostgreSQL when one answers at
DATABASE_URL (if it is a postgres URL) or 127.0.0.1:5432/test. Each PostgreSQL test gets a
fresh schema `ivr_test_<pid>_<n>` (search_path set through the URL's `options`), dropped
afterwards, so concurrent runs and other engineers' tests on the same server never collide.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_SCHEMAS = itertools.count()


def _pg_server_url() -> str | None:
    configured = os.environ.get("DATABASE_URL", "")
    url = database_url(configured, instance_dir=Path(".")) if configured.startswith(
        "postgres") else DEFAULT_PG
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return url
    except OperationalError:
        return None
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_server_url() -> str | None:
    return _pg_server_url()


def _with_search_path(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url(pg_server_url: str | None) -> Iterator[str]:
    if pg_server_url is None:
        pytest.skip("no PostgreSQL at DATABASE_URL or 127.0.0.1:5432")
    schema = f"ivr_test_{os.getpid()}_{next(_SCHEMAS)}"
    admin = create_engine(pg_server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(pg_server_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """An empty database (no tables yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/outcomes.sqlite3"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """The database at `db_url`, migrated to head."""
    upgrade_database(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)
