"""`/recordings/<sid>` finds a recording by its SID through an index (migration 0012), on
SQLite and PostgreSQL: a voicemail by `voicemails.recording_sid`, an agent call's recording by
the `recording_sid` column the writer fills for `recording` events (it used to extract the
SID from the JSON of every recording event). The plans are asked of the database itself."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from ivr.store import call_records
from ivr.store import events as ev
from ivr.store import models as m
from ivr.store.recording_ledger import events_of, recording_urls

URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/"


def log(factory: sessionmaker[Session], call: str, kind: str, data: dict, at: float) -> None:
    with factory.begin() as session:
        event = ev.StreamEvent(f"{int(at * 1000)}-0", ev.new_event_id(), kind, call, at, data)
        assert call_records.apply_event(session, event) == "written"


def plan(engine: Engine, statement) -> str:  # type: ignore[no-untyped-def]
    """The database's plan for `statement` (its parameters inlined)."""
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return " | ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
        conn.execute(text("SET enable_seqscan = off"))  # a few rows: it would scan anyway
        return " | ".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + sql)))


def test_an_agent_call_recording_is_found_by_its_sid_through_an_index(
        db_engine: Engine, session_factory: sessionmaker[Session]) -> None:
    for n in range(3):
        call, sid = f"CA{n:032d}", f"RE{n:032d}"
        log(session_factory, call, "recording", {"recording": sid, "action": "started"}, 10.0)
        log(session_factory, call, "recording", {"recording": sid, "action": "completed",
                                                 "duration": 5.0, "url": URL + sid}, 20.0)
    assert recording_urls(db_engine, "RE" + "1".zfill(32)) == [URL + "RE" + "1".zfill(32)]
    assert recording_urls(db_engine, "RE" + "9" * 32) is None
    shown = plan(db_engine, events_of("RE" + "1".zfill(32)))
    assert "ix_processed_events_recording_sid" in shown, shown


def test_a_voicemail_is_found_by_its_sid_through_an_index(db_engine: Engine) -> None:
    statement = select(m.VoicemailRow.url).where(m.VoicemailRow.recording_sid == "RE" + "1" * 32)
    shown = plan(db_engine, statement)
    assert "ix_voicemails_recording_sid" in shown, shown


def test_the_migration_fills_the_column_from_the_events_already_logged(
        db_url: str, db_engine: Engine) -> None:
    from alembic import command

    from ivr.store.db import _alembic_config, upgrade_database

    with db_engine.begin() as conn:  # back to before 0012: the events stay
        config = _alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    with db_engine.begin() as conn:  # an event logged by the writer of before
        conn.execute(text(
            "INSERT INTO processed_events (event_id, stream_id, kind, at, data, processed_at) "
            "VALUES ('e1', '1-0', 'recording', 1.0, :data, :now)"), {
            "data": '{"recording": "RE' + "2" * 32 + '", "action": "completed", "url": "'
                    + URL + '"}', "now": datetime.now(UTC)})
    upgrade_database(db_url)
    assert recording_urls(db_engine, "RE" + "2" * 32) == [URL]


def test_a_recording_that_failed_to_start_shows_so_in_the_call_record(
        session_factory: sessionmaker[Session]) -> None:
    """FloorRecording.begin files `recording` action `failed` (named by the agent's leg:
    Twilio gave no RE sid) when Twilio would not start it; the call record lists it so."""
    call, leg = "CA" + "7" * 32, "CA" + "8" * 32
    log(session_factory, call, "call_started", {"caller": "+14155550123",
                                                "dialed": "+15550002000", "flow": "f"}, 1.0)
    log(session_factory, call, "recording", {"recording": leg, "action": "failed"}, 5.0)
    with session_factory.begin() as session:
        record = call_records.rebuild_call(session, call)
        shown = call_records.floor_json(record)
    assert shown is not None
    assert [(r["recording"], r["status"]) for r in shown["recordings"]] == [(leg, "failed")]
