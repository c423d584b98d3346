"""Migration 0009: on PostgreSQL, call_steps is vacuumed for inserts after 1 % of its size (so
flow analytics stay an index-only read); before it, the server's defaults applied. (The
downgrade runs in tests/store/test_db.py's downgrade to base.)"""

from __future__ import annotations

from sqlalchemy import text

from ivr.store.db import make_engine, upgrade_database


def reloptions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text(
                "SELECT reloptions FROM pg_class WHERE oid = 'call_steps'::regclass")).scalar()
        return sorted(found or [])
    finally:
        engine.dispose()


def test_call_steps_autovacuum_follows_inserts(pg_schema_url: str) -> None:
    upgrade_database(pg_schema_url, "0008")
    assert reloptions(pg_schema_url) == []
    upgrade_database(pg_schema_url)
    assert reloptions(pg_schema_url) == ["autovacuum_analyze_scale_factor=0.01",
                                         "autovacuum_vacuum_insert_scale_factor=0.01"]
