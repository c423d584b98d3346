"""`/api/reports`, `/api/reports.csv`, `/api/callers/<number>` and `ivr report`, on the scripted
day written by the real writer into the app's own database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy.orm import Session

from ivr import create_app
from ivr.commands.report import command as report_command
from ivr.config.reporting import load_report_settings
from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database
from ivr.store.reports import day_report, report_csv
from queue_worker.outcomes import drain_events
from tests.pg_schemas import same_database
from tests.signin import add_users, login_token, signed_in
from tests.store import scripted_day


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:
    instance = tmp_path / "instance"
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "instance_dir": instance})
    add_users(instance, sue="supervisor", ann="agent")
    url = database_url(same_database() or None, instance)
    upgrade_database(url)
    engine = make_engine(url)
    scripted_day.publish_day(redis)
    assert drain_events(redis, make_session_factory(engine)).failed == 0
    application.config["TEST_ENGINE"] = engine
    yield application
    engine.dispose()


def test_reports_need_a_supervisor(app: Flask) -> None:
    assert app.test_client().get("/api/reports").status_code == 401
    assert signed_in(app, "ann").get("/api/reports").status_code == 403
    assert signed_in(app, "ann").get("/api/reports.csv").status_code == 403


def test_report_json_and_csv_are_the_day_report(app: Flask) -> None:
    sue = signed_in(app, "sue")
    got = sue.get("/api/reports?day=2026-11-24&by=day").get_json()
    assert (got["day"], got["by"], got["timezone"]) == ("2026-11-24", "day",
                                                        "America/Los_Angeles")
    support = next(r for r in got["rows"] if r["queue"] == "support")
    assert (support["offered"], support["answered"], support["service_level"],
            support["service_level_target"]) == (6, 4, 0.6, 20.0)
    settings = load_report_settings(app.config["IVR"].queues_file)
    rows = day_report(app.config["TEST_ENGINE"], date(2026, 11, 24), "hour", settings,
                      datetime.now(UTC))
    hourly = sue.get("/api/reports.csv?day=2026-11-24&by=hour")
    assert hourly.mimetype == "text/csv"
    assert hourly.get_data(as_text=True) == report_csv(rows)
    table = list(csv.DictReader(io.StringIO(hourly.get_data(as_text=True))))
    nine = [r for r in table if r["bucket"] == "2026-11-24T09:00-08:00" and r["queue"] == "*"]
    assert nine[0]["offered"] == "4"  # CA01-CA03 in support (CA04 a short abandon), CA06 sales
    only = sue.get("/api/reports?day=2026-11-24&queue=sales").get_json()["rows"]
    assert [r["queue"] for r in only] == ["sales"]


def test_bad_parameters_say_what_to_send(app: Flask) -> None:
    sue = signed_in(app, "sue")
    bad = sue.get("/api/reports?day=24/11/2026")
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.get_json()["error"]
    assert sue.get("/api/reports?by=week").status_code == 400


def test_caller_history_for_an_agent_in_any_number_format(app: Flask) -> None:
    assert app.test_client().get("/api/callers/+14155550101").status_code == 401
    ann = signed_in(app, "ann")
    got = ann.get("/api/callers/(415)%20555-0101").get_json()
    assert got["number"] == "+14155550101"
    assert got["calls_total"] == 3  # CA01, CA11 (sent as 4155550101) and CA14
    assert [c["call_sid"] for c in got["calls"]] == ["CA14", "CA11", "CA01"]
    first = got["calls"][-1]
    assert (first["queue"], first["outcome"], first["wait_s"], first["agent"]) == (
        "support", "answered", 12.0, "alice")
    assert first["survey"]["satisfaction"] == {"answer": "5", "score": 5}
    assert first["started_at"] == "2026-11-24T17:05:00+00:00"
    assert got["satisfaction"] == {"surveys": 2, "last": 5, "mean": 5.0}
    assert got["calls_24h"] == 0  # long ago by now
    assert ann.get("/api/callers/+14155550101?limit=1").get_json()["calls"][0][
        "call_sid"] == "CA14"
    assert ann.get("/api/callers/+19995550000").get_json()["calls"] == []


def test_ivr_report_command(app: Flask) -> None:
    env = {"IVR_INSTANCE_DIR": str(app.config["IVR"].instance_dir), "DATABASE_URL": same_database()}
    text = CliRunner().invoke(report_command, ["--day", "2026-11-24"], env=env)
    assert text.exit_code == 0, text.output
    assert "America/Los_Angeles" in text.output
    support = next(line for line in text.output.splitlines() if " support " in line)
    assert support.split()[2:5] == ["6", "4", "1"]  # offered, answered, abandoned
    as_csv = CliRunner().invoke(report_command, ["--day", "2026-11-24", "--by", "hour",
                                                 "--queue", "billing", "--csv"], env=env)
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(rows) == 24
    assert sum(int(r["answered"]) for r in rows) == 2
    bad = CliRunner().invoke(report_command, ["--day", "tomorrow"], env=env)
    assert bad.exit_code != 0


def test_per_agent_rows_in_the_api_and_the_command_agree(app: Flask) -> None:
    """Issue 14 item 5: AHT (talk + hold + after-call work) per agent, in /api/reports and
    under the queue rows of `ivr report`; the same rows."""
    got = signed_in(app, "sue").get("/api/reports?day=2026-11-24").get_json()
    agents = {a["agent"]: a for a in got["agents"]}
    assert agents, "the scripted day has answered calls"
    assert sum(a["handled"] for a in agents.values()) == next(
        r["answered"] for r in got["rows"] if r["queue"] == "*")
    support = next(r for r in got["rows"] if r["queue"] == "support")
    assert support["aht"] is not None
    assert support["aht"] == support["talk"] + support["hold"] + support["after_call"]
    env = {"IVR_INSTANCE_DIR": str(app.config["IVR"].instance_dir), "DATABASE_URL": same_database()}
    text = CliRunner().invoke(report_command, ["--day", "2026-11-24"], env=env).output
    assert "per agent (AHT = talk + hold + after-call work" in text
    for name, row in agents.items():
        line = next(x for x in text.split("per agent")[1].splitlines() if f" {name} " in x)
        assert line.split()[2:4] == [str(row["handled"]), str(row["aht"])]


def test_closing_a_task_updates_the_callers_summary_for_flows(app: Flask, redis) -> None:
    from ivr.store import models as m
    from ivr.store.caller_summary import history_variables, refresh_caller_summary

    engine = app.config["TEST_ENGINE"]
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        task = m.FollowupTaskRow(call_sid="CA14", caller=scripted_day.A, rule="low_score",
                              reason="Call back about the label", priority=2, team="support",
                              status="open", due_at=now, created_at=now, updated_at=now)
        session.add(task)
        session.flush()
        task_id = task.id
        refresh_caller_summary(session, redis, scripted_day.A, now)
    assert history_variables(redis, scripted_day.A, now)["open_tasks"] == 1
    sue = signed_in(app, "sue")
    token = login_token(sue)
    done = sue.post(f"/api/tasks/{task_id}/close", json={"disposition": "called_back"},
                    headers={"X-CSRF-Token": token})
    assert done.status_code == 200, done.get_json()
    after = history_variables(redis, scripted_day.A, now)
    assert (after["open_tasks"], after["returning"]) == (0, True)
