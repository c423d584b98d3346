"""Fixtures for the survey, data-protection and fault tests: an app whose flow folder holds a
small survey-only flow next to the demo flows, and helpers to read the outcome stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis as redis_lib
from flask import Flask

from ivr.store import keys
from tests.e2e.conftest import live  # noqa: F401 - the e2e call centre, shared
from tests.web.conftest import BASE, TOKEN

SURVEY_LINE = "+15550002000"
SURVEY_FLOW = """\
flow: rate_us
description: Test line that asks the survey at once (and by SMS after the call).
numbers: ["+15550002000"]
languages: [en-US]
timezone: America/Los_Angeles
start: survey
human: support_queue
fallback: {queue: support}
queues:
  support: {skill: support}
nodes:
  support_queue:
    type: queue
    queue: support
  survey:
    type: survey
    say: survey_intro
    questions:
      - {id: satisfaction, say: survey_satisfaction, kind: scale}
      - {id: resolved, say: survey_resolved, kind: yes_no}
    sms: {text: "Acme: how satisfied were you with your call? Reply 1 (poor) to 5 (great)."}
    sms_question: satisfaction
"""


def write_flows(tmp_path: Path, extra: str = SURVEY_FLOW) -> Path:
    """The demo flows, the e2e front desk and `extra` (lookups pointed at the demo data)."""
    from tests.e2e.conftest import flows_dir

    flows = flows_dir(tmp_path)
    (flows / "rate_us.yaml").write_text(extra)
    return flows


@pytest.fixture
def survey_app(redis_url: str, redis, tmp_path: Path) -> Flask:  # noqa: ARG001 - flushes
    from ivr import create_app

    app = create_app({
        "redis_url": redis_url, "twilio_auth_token": TOKEN,
        "twilio_account_sid": "AC" + "1" * 32, "public_base_url": BASE,
        "instance_dir": tmp_path / "instance", "prompts_audio_dir": tmp_path / "no-audio",
        "flows_dir": write_flows(tmp_path),
    })
    app.testing = True
    return app


def stream_events(conn: redis_lib.Redis, call_sid: str | None = None) -> list[tuple[str, dict]]:
    out = []
    for _, fields in conn.xrange(keys.events_stream()):
        if call_sid is None or fields[b"call"].decode() == call_sid:
            out.append((fields[b"kind"].decode(), json.loads(fields[b"data"])))
    return out




def leave_voicemail(centre, caller: str = "+14155550123", words: str = "call me back"):
    """A caller who presses 2 while holding and leaves a voicemail (the e2e front desk)."""
    leg = centre.call(f'press 2; say "{words}"', from_=caller)
    centre.run_until(lambda: leg.completed)
    assert [e for e in leg.transcript.events if e.kind == "recorded"]
    return leg


def outcome_db(instance_dir: Path):
    """(engine, session factory) for the app's outcome database (SQLite in its instance
    folder, or the test's PostgreSQL schema: tests/pg_schemas.py), migrated."""
    from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database
    from tests.pg_schemas import same_database

    url = database_url(same_database() or None, instance_dir)
    upgrade_database(url)
    engine = make_engine(url)
    return engine, make_session_factory(engine)


# The database fixtures (SQLite, and PostgreSQL in a schema of its own when one answers).
from tests.store.conftest import (  # noqa: E402,F401
    db_engine,
    db_url,
    pg_schema_url,
    pg_server_url,
    session_factory,
)
