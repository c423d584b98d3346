"""A fresh PostgreSQL schema per test, for runs with DATABASE_URL pointing at PostgreSQL.

With `DATABASE_URL=postgresql://...` every app a test builds (`create_app` reads the
environment), every `ivr` command it runs in-process or as a child, and the helpers that add
users (tests/signin.py) must meet in ONE database, or a user added in one is missing from the
server under test (issue 16: the browser tests added users to SQLite while the server read
PostgreSQL). Sharing one database would make tests see each other's calls and users, so each
test gets its own schema `ivr_test_<pid>_<n>` and DATABASE_URL names it (search_path through
the URL's `options`); the schema is dropped afterwards. Without a PostgreSQL DATABASE_URL
nothing happens: each test's SQLite database lives in its own instance folder already.

SERVER_URL is DATABASE_URL as the run started, read at import, before any test replaced it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from ivr.store.db import database_url

_STARTED_WITH = os.environ.get("DATABASE_URL", "")
SERVER_URL = (database_url(_STARTED_WITH, instance_dir=Path("."))
              if _STARTED_WITH.startswith("postgres") else None)
_SCHEMAS = itertools.count()


def with_search_path(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A new empty schema on `server_url`'s database: yields the URL that uses it; dropped
    with everything in it on the way out."""
    schema = f"ivr_test_{os.getpid()}_{next(_SCHEMAS)}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_search_path(server_url, schema)
    finally:
        with admin.begin() as conn:  # a connection left mid-transaction fails the test, not hangs
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def same_database() -> str:
    """DATABASE_URL for a command or server a test starts: the one this test's apps use (its
    own PostgreSQL schema, or empty for SQLite in the instance folder they are given)."""
    return os.environ.get("DATABASE_URL", "")
