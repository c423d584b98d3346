"""Database fixtures: `db_url` (an empty database), `db_engine` (migrated), `session_factory`.

`db_url` is parametrised: SQLite in a temporary file, and PostgreSQL when one answers at
DATABASE_URL (if it is a postgres URL) or 127.0.0.1:5432/test. Each PostgreSQL test gets a
fresh schema `ivr_test_<pid>_<n>` (search_path set through the URL's `options`), dropped
afterwards, so concurrent runs and other engineers' tests on the same server never collide
(tests/pg_schemas.py, which also gives every test its own schema when DATABASE_URL is one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ivr.store.db import make_engine, make_session_factory, upgrade_database
from tests.pg_schemas import SERVER_URL, fresh_schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_server_url() -> str | None:
    url = SERVER_URL or DEFAULT_PG  # DATABASE_URL as the run started (tests/pg_schemas.py)
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


@pytest.fixture
def pg_schema_url(pg_server_url: str | None) -> Iterator[str]:
    if pg_server_url is None:
        pytest.skip("no PostgreSQL at DATABASE_URL or 127.0.0.1:5432")
    with fresh_schema(pg_server_url) as url:
        yield url


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
