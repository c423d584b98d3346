"""Alembic environment: migrates the connection `ivr.store.db.upgrade_database` hands over.

Programmatic only (no alembic.ini, no logging set-up, no environment reads): the caller passes
an open connection in `config.attributes["connection"]`, or a URL as `sqlalchemy.url` when
someone drives Alembic by hand (`alembic -x` is not supported on purpose; use `ivr db upgrade`).
"""

from __future__ import annotations

from typing import Any

from alembic import context

from ivr.store.db import make_engine
from ivr.store.models import Base


def _run(connection: Any) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection or sqlalchemy.url given; use ivr.store.db."
                           "upgrade_database(url) or `ivr db upgrade`")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run `ivr db upgrade`")
run_migrations_online()
