"""The outcome database: URL choice, Alembic upgrade on SQLite and PostgreSQL, models in step
with the migrations, and `ivr db upgrade`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ivr.store import models as m
from ivr.store.db import current_revision, database_url, make_engine, upgrade_database

TABLES = {"calls", "call_steps", "self_service_attempts", "queue_visits", "callbacks",
          "callback_attempts", "voicemails", "survey_answers", "dispositions", "call_tags",
          "processed_events", "flow_versions", "users", "followup_tasks", "agent_work",
          "flow_step_rollups", "alembic_version"}


def _head_revision() -> str | None:
    """The newest migration, so adding one does not need this test edited."""
    from alembic.script import ScriptDirectory

    from ivr.store.db import _alembic_config

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_database_url_defaults_to_sqlite_under_instance(tmp_path: Path) -> None:
    url = database_url(None, tmp_path / "inst")
    assert url == f"sqlite:///{(tmp_path / 'inst').resolve()}/outcomes.sqlite3"
    assert (tmp_path / "inst").is_dir()


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_url_uses_the_configured_url(given: str, expected: str,
                                              tmp_path: Path) -> None:
    assert database_url(given, tmp_path) == expected
    assert not any(tmp_path.iterdir())


def test_upgrade_creates_every_table_and_is_idempotent(db_url: str) -> None:
    assert current_revision(db_url) is None
    upgrade_database(db_url)
    upgrade_database(db_url)
    assert current_revision(db_url) == _head_revision() >= "0004"
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_models_match_migrations(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []


def test_downgrade_to_base_drops_everything(db_url: str) -> None:
    upgrade_database(db_url)
    from alembic import command

    from ivr.store.db import _alembic_config

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


def test_foreign_keys_and_cascade_hold(session_factory: sessionmaker[Session]) -> None:
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    with session_factory() as session, session.begin():
        session.add_all([m.CallRow(call_sid="CA1", outcome="in_progress"),
                         m.CallRow(call_sid="CA2", outcome="in_progress")])
        session.flush()
        session.add_all([m.CallStepRow(call_sid=sid, seq=0, kind="visit", node="menu", at=at)
                         for sid in ("CA1", "CA2")])
    with session_factory() as session, session.begin():
        session.delete(session.get(m.CallRow, "CA1"))
    with session_factory() as session:
        steps = session.execute(select(m.CallStepRow.call_sid)).scalars().all()
        assert steps == ["CA2"]
        stored = session.execute(select(m.CallStepRow.at)).scalar_one()
        assert stored.replace(tzinfo=stored.tzinfo or UTC) == at
    with pytest.raises(IntegrityError), session_factory() as session, session.begin():
        session.add(m.CallStepRow(call_sid="CA-none", seq=0, kind="visit", node="x", at=at))


def test_db_upgrade_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr.commands.db import command

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("IVR_INSTANCE_DIR", str(tmp_path))
    result = CliRunner().invoke(command, ["upgrade"])
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{tmp_path.resolve()}/outcomes.sqlite3"
    head = _head_revision()
    assert f"at revision {head}" in result.output
    assert current_revision(url) == head
    assert CliRunner().invoke(command, ["current"]).output.strip().endswith(str(head))


def test_db_upgrade_command_names_the_unreachable_database(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr.commands.db import command

    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(command, ["upgrade"])
    assert result.exit_code == 1
    assert "DATABASE_URL" in result.output
    assert "127.0.0.1:1" in result.output


def test_steps_written_before_flow_analytics_are_filled_in(db_url: str) -> None:
    """0007 fills next_node, first_entry, hour, dwell and the call's copies on old rows, whose
    visits all count as entries (they carry no detail)."""
    from sqlalchemy import insert

    upgrade_database(db_url, "0006")
    engine = make_engine(db_url)
    at = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    old_steps = sa.table("call_steps", sa.column("call_sid"), sa.column("seq"),
                         sa.column("kind"), sa.column("node"), sa.column("at"),
                         sa.column("left_at"))
    with engine.begin() as conn:
        conn.execute(insert(m.CallRow.__table__).values(
            call_sid="CA1", flow="shop", started_at=at, answered=True, abandoned=False,
            outcome="answered"))
        conn.execute(insert(old_steps), [
            {"call_sid": "CA1", "seq": i, "kind": k, "node": n,
             "at": at.replace(second=10 * i), "left_at": at.replace(second=10 * i + 10)}
            for i, (k, n) in enumerate([("visit", "menu"), ("input", "menu"),
                                        ("visit", "menu"), ("visit", "queue")])])
    upgrade_database(db_url)
    s = m.CallStepRow
    with engine.connect() as conn:
        rows = conn.execute(select(s.node, s.next_node, s.first_entry, s.hour, s.flow,
                                   s.answered, s.dwell_s).where(s.kind == "visit")
                            .order_by(s.seq)).all()
    engine.dispose()
    hour = int(at.timestamp() // 3600)
    assert [tuple(r[:6]) for r in rows] == [("menu", "menu", True, hour, "shop", True),
                                            ("menu", "queue", False, hour, "shop", True),
                                            ("queue", None, True, hour, "shop", True)]
    assert [round(r[6]) for r in rows] == [10, 10, 10]
