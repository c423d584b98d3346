"""The worklist API on SQLite and PostgreSQL: tasks opened by the real writer, listed,
filtered, assigned and closed by signed-in users with their roles; CSV for supervisors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from ivr import create_app
from ivr.store import models as m
from ivr.store.db import make_engine, make_session_factory, upgrade_database
from ivr.store.users import save_user
from queue_worker.followup import FollowupHook
from queue_worker.outcomes import drain_events
from tests import signin
from tests.signin import PASSWORD
from tests.store.conftest import db_url, pg_schema_url, pg_server_url  # noqa: F401
from tests.store.test_followup_tasks import RULES, scripted_calls


@pytest.fixture
def app(redis_url: str, redis, tmp_path, db_url: str) -> Flask:  # noqa: F811
    upgrade_database(db_url)
    engine = make_engine(db_url)
    for name, role in (("ann", "agent"), ("bea", "agent"), ("sue", "supervisor")):
        save_user(engine, name, role, PASSWORD)
    sessions = make_session_factory(engine)
    scripted_calls(redis)
    drain_events(redis, sessions, hooks=[FollowupHook(RULES)])
    with sessions() as session, session.begin():  # the voicemail task is a day overdue
        session.execute(update(m.FollowupTaskRow).where(m.FollowupTaskRow.rule == "voicemail")
                        .values(due_at=datetime.now(UTC) - timedelta(days=1)))
    engine.dispose()
    return create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                       "instance_dir": tmp_path / "instance", "database_url": db_url})


def signed_in(app: Flask, name: str):  # type: ignore[no-untyped-def]
    client = signin.signed_in(app, name)
    return client, {"X-CSRF-Token": signin.login_token(client)}


def test_tasks_need_a_session_and_list_with_filters(app: Flask):
    assert app.test_client().get("/api/tasks").status_code == 401
    ann, _ = signed_in(app, "ann")
    listed = ann.get("/api/tasks").get_json()["tasks"]
    assert [t["rule"] for t in listed] == ["callback_failed", "abandoned_after_wait",
                                           "low_satisfaction", "voicemail"]
    first = listed[0]
    assert first["reason"] == "Callback to +14155550105 failed after 2 attempts"
    assert (first["status"], first["owner"], first["overdue"]) == ("open", None, False)
    assert set(first) >= {"id", "call_sid", "caller", "priority", "team", "due_at",
                          "created_at", "closed_at", "disposition", "notes", "transcript",
                          "recording_sid"}
    overdue = ann.get("/api/tasks?overdue=1").get_json()["tasks"]
    assert [(t["rule"], t["overdue"], t["recording_sid"]) for t in overdue] == [
        ("voicemail", True, "RE1")]
    assert [t["rule"] for t in ann.get("/api/tasks?team=sales").get_json()["tasks"]] == [
        "abandoned_after_wait"]
    assert ann.get("/api/tasks?caller=%2B14155550102").get_json()["tasks"][0]["rule"] == (
        "low_satisfaction")


def test_agents_take_and_close_their_tasks_supervisors_any(app: Flask):
    ann, ann_csrf = signed_in(app, "ann")
    bea, bea_csrf = signed_in(app, "bea")
    sue, sue_csrf = signed_in(app, "sue")
    ids = {t["rule"]: t["id"] for t in ann.get("/api/tasks").get_json()["tasks"]}
    vm, cb = ids["voicemail"], ids["callback_failed"]
    assert ann.post(f"/api/tasks/{vm}/assign", json={}).status_code == 403  # no CSRF token
    taken = ann.post(f"/api/tasks/{vm}/assign", json={}, headers=ann_csrf)
    assert (taken.status_code, taken.get_json()["owner"]) == (200, "ann")
    assert taken.get_json()["status"] == "in_progress"
    assert ann.post(f"/api/tasks/{cb}/assign", json={"owner": "bea"},
                    headers=ann_csrf).status_code == 403
    assert bea.post(f"/api/tasks/{vm}/close", json={"disposition": "called_back"},
                    headers=bea_csrf).status_code == 403  # ann's task
    assert ann.post(f"/api/tasks/{vm}/close", json={"notes": "no code"},
                    headers=ann_csrf).status_code == 400
    done = ann.post(f"/api/tasks/{vm}/close", json={"disposition": "called_back",
                                                    "notes": "sent a replacement"},
                    headers=ann_csrf).get_json()
    assert (done["status"], done["disposition"], done["overdue"]) == ("closed", "called_back",
                                                                      False)
    assert done["closed_at"] is not None
    assert ann.post(f"/api/tasks/{vm}/close", json={"disposition": "x"},
                    headers=ann_csrf).status_code == 409
    assert sue.post(f"/api/tasks/{cb}/assign", json={"owner": "bea"},
                    headers=sue_csrf).get_json()["owner"] == "bea"
    assert sue.post("/api/tasks/999999/close", json={"disposition": "x"},
                    headers=sue_csrf).status_code == 404
    mine = bea.get("/api/tasks?owner=me").get_json()["tasks"]
    assert [t["id"] for t in mine] == [cb]
    assert len(ann.get("/api/tasks?status=open").get_json()["tasks"]) == 3
    assert [t["id"] for t in ann.get("/api/tasks?status=closed").get_json()["tasks"]] == [vm]


def test_csv_for_supervisors_and_calls(app: Flask):
    ann, _ = signed_in(app, "ann")
    sue, _ = signed_in(app, "sue")
    assert ann.get("/api/tasks.csv").status_code == 403
    exported = sue.get("/api/tasks.csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["rule"] for r in rows] == ["callback_failed", "abandoned_after_wait",
                                         "low_satisfaction", "voicemail"]
    assert rows[3]["overdue"] == "True"
    assert rows[1]["caller"] == "+14155550101"
    calls = ann.get("/api/calls").get_json()["calls"]
    assert {c["call_sid"] for c in calls} == {"CA-abandon", "CA-survey", "CA-happy", "CA-vm",
                                              "CA-cb"}
    (abandon,) = ann.get("/api/calls?outcome=abandoned").get_json()["calls"]
    assert (abandon["call_sid"], abandon["queue"], abandon["wait_s"]) == ("CA-abandon",
                                                                         "sales", 180.0)
    assert ann.get("/api/calls?since=yesterday").status_code == 400
    assert ann.get("/api/calls.csv").status_code == 403
    lines = sue.get("/api/calls.csv?queue=support").get_data(as_text=True).splitlines()
    assert lines[0].startswith("call_sid,caller,")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["CA-happy", "CA-survey"]


def test_an_agent_takes_only_tasks_that_are_nobodys_or_theirs(app: Flask):
    ann, ann_csrf = signed_in(app, "ann")
    bea, bea_csrf = signed_in(app, "bea")
    sue, sue_csrf = signed_in(app, "sue")
    ids = {t["rule"]: t["id"] for t in ann.get("/api/tasks").get_json()["tasks"]}
    vm, cb = ids["voicemail"], ids["callback_failed"]
    assert ann.post(f"/api/tasks/{vm}/assign", json={}, headers=ann_csrf).status_code == 200
    taken = bea.post(f"/api/tasks/{vm}/assign", json={}, headers=bea_csrf)
    assert taken.status_code == 403
    assert taken.get_json()["error"] == (f"task {vm} belongs to ann; only a supervisor may give "
                                         "it to someone else")
    owners = {t["id"]: t["owner"] for t in sue.get("/api/tasks").get_json()["tasks"]}
    assert owners[vm] == "ann"
    assert ann.post(f"/api/tasks/{vm}/assign", json={}, headers=ann_csrf).status_code == 200
    moved = sue.post(f"/api/tasks/{vm}/assign", json={"owner": "bea"}, headers=sue_csrf)
    assert moved.get_json()["owner"] == "bea"  # supervisors reassign any task
    assert ann.post(f"/api/tasks/{vm}/assign", json={}, headers=ann_csrf).status_code == 403
    assert bea.post(f"/api/tasks/{cb}/assign", json={}, headers=bea_csrf).status_code == 200


def test_a_task_shows_how_its_call_went_on_the_agent_floor(app: Flask):
    """The worklist's task carries who handled the call, its holds and transfers (issue 14
    item 7); a call no agent handled has none."""
    ann, _ = signed_in(app, "ann")
    listed = {t["rule"]: t for t in ann.get("/api/tasks").get_json()["tasks"]}
    assert listed["low_satisfaction"]["handling"] == {
        "agents": ["alice"], "hold_count": 0, "hold_s": 0.0, "transferred": False,
        "transfers": []}
    assert listed["abandoned_after_wait"]["handling"] is None
