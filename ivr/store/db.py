"""The outcome database's connection: URL choice, engine, sessions and schema upgrades.

Owns how the product reaches SQL: `DATABASE_URL` when set (PostgreSQL in production), else a
SQLite file under the instance folder the caller passes in (never read from the environment
here; `ivr.config.settings.from_env` does that). Engines are made once, at app or worker start, and
passed explicitly. Must not import Flask, Redis or the domain.

`upgrade_database(url)` runs the Alembic migrations in `ivr/store/migrations/` programmatically
(start-up and `ivr db upgrade`), so there is no alembic.ini to keep in step with the code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ivr.store.sqlite_fork import FORK_GUARD, GuardedConnection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "outcomes.sqlite3"
# What the writer, follow-up and retention jobs take: anything that opens a Session (a
# sessionmaker in production, a stand-in that fails like a lost database in tests).
SessionFactory = Callable[[], Session]


def database_url(configured: str | None, instance_dir: Path) -> str:
    """`configured` (DATABASE_URL) when set, else SQLite at INSTANCE/outcomes.sqlite3.

    Heroku-style `postgres://` and bare `postgresql://` URLs are pointed at psycopg 3, the
    driver the product installs (SQLAlchemy would otherwise look for psycopg2)."""
    if configured:
        if configured.startswith("postgres://"):
            configured = "postgresql://" + configured.removeprefix("postgres://")
        if configured.startswith("postgresql://"):
            configured = "postgresql+psycopg://" + configured.removeprefix("postgresql://")
        return configured
    Path(instance_dir).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_dir).resolve() / SQLITE_FILE}"


POOL_LIMITS = ("pool_size", "max_overflow", "pool_timeout")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. PostgreSQL: pre-ping, so connections dropped by a database restart
    are replaced instead of failing the next event. SQLite: foreign keys on, WAL, a busy
    timeout, and `BEGIN IMMEDIATE` so a writer takes the write lock before reading (two
    writers on one file then queue up instead of failing on a stale snapshot).

    Servers pass `**config.db_pool()` (IVR_DB_POOL_SIZE, IVR_DB_MAX_OVERFLOW,
    IVR_DB_POOL_TIMEOUT): an engine then holds at most size + overflow connections and a
    thread past that waits up to the timeout (SQLAlchemy's QueuePool). An in-memory SQLite
    database has one connection per thread and takes no limits."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if parsed.database in (None, "", ":memory:"):
        kwargs = {k: v for k, v in kwargs.items() if k not in POOL_LIMITS}
    kwargs["connect_args"] = {**kwargs.get("connect_args", {"timeout": 30}),
                              "factory": GuardedConnection}  # forks: sqlite_fork.py
    engine = create_engine(url, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is switched off so BEGIN is ours (SQLAlchemy's
        # documented recipe for SERIALIZABLE SQLite).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        FORK_GUARD.begin()  # a fork waits for this transaction (ivr/store/sqlite_fork.py)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            FORK_GUARD.end()
            raise


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (the writer reads ids after committing)."""
    return sessionmaker(engine, expire_on_commit=False)


def upgrade_database(url: str | Engine, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (idempotent; safe at every start-up).

    Raises sqlalchemy.exc.OperationalError when the database cannot be reached: start-up should
    fail loudly then, naming DATABASE_URL, rather than serve calls whose outcomes are lost."""
    from alembic import command

    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def current_revision(url: str | Engine) -> str | None:
    """The revision the database at `url` is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
