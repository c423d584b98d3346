"""`/api/staffing` and `ivr staffing` in live mode on a real Redis and the app's database: the
arrivals written to the database, the handle time and patience the hold statistics hold and
the agents working now give the advice the model computes; a break moves it."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import insert

from ivr import create_app
from ivr.commands.staffing import command as staffing_command
from ivr.domain.staffing import Demand, agents_needed, predict
from ivr.store import models as m
from ivr.store.db import database_url, make_engine, upgrade_database
from ivr.store.hold_stats import HoldStatsStore
from tests.pg_schemas import same_database
from tests.signin import add_users, signed_in

CALLS = 40  # support callers over the last 40 minutes


@pytest.fixture
def app(redis_url: str, redis, tmp_path, monkeypatch) -> Flask:
    instance = tmp_path / "instance"
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "instance_dir": instance})
    add_users(instance, sue="supervisor", ann="agent")
    url = database_url(same_database() or None, instance)
    upgrade_database(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        at = [now - timedelta(minutes=k + 0.5) for k in range(CALLS)]
        conn.execute(insert(m.CallRow), [{"call_sid": f"CA{i:032d}", "started_at": t}
                                      for i, t in enumerate(at)])
        conn.execute(insert(m.QueueVisitRow), [{"call_sid": f"CA{i:032d}", "seq": 0,
                                             "queue": "support", "joined_at": t}
                                            for i, t in enumerate(at)])
    engine.dispose()
    HoldStatsStore(redis).update("support", lambda s: replace(
        s, handle_mean=240.0, abandon_weight=4.0, wait_exposure=2400.0))  # patience 600 s
    svc = application.extensions["ivr"]
    for agent in ("alice", "bob", "dan"):
        svc.queue_engine.agent_presence(agent, "available", time.time())
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("IVR_INSTANCE_DIR", str(instance))
    return application


def support(advice: list[dict]) -> dict:
    return next(a for a in advice if a["queue"] == "support")


def test_staffing_needs_a_supervisor(app: Flask) -> None:
    assert app.test_client().get("/api/staffing").status_code == 401
    assert signed_in(app, "ann").get("/api/staffing").status_code == 403


def test_live_advice_is_the_model_on_live_inputs_and_a_break_moves_it(app: Flask) -> None:
    sue = signed_in(app, "sue")
    got = support(sue.get("/api/staffing").get_json()["queues"])
    # 40 callers in the last 40 minutes, over a window of 45 to 60 minutes of today (or less
    # when the business day began within the hour: then the rate is higher, never lower)
    assert got["calls_per_hour"] >= 40 * 60 / 60 - 0.5
    assert (got["agents"], got["aht"], got["patience"]) == (3, 240.0, 600.0)
    demand = Demand(got["calls_per_hour"] / 3600, 240.0, 600.0, 0.8, 20.0)
    assert got["agents_needed"] == agents_needed(demand).agents
    # calls_per_hour is rounded to 0.1 in the answer: the figures agree to that
    assert got["current"] == pytest.approx(predict(demand, 3).as_dict(), abs=0.005, rel=0.01)
    assert [o["agents"] for o in got["options"]] == [1, 2, 4, 5, 6]
    assert "80 % in 20 s" in got["sentence"]
    app.extensions["ivr"].queue_engine.agent_presence("bob", "break", time.time())
    later = support(sue.get("/api/staffing").get_json()["queues"])
    assert later["agents"] == 2
    assert later["current"]["service_level"] < got["current"]["service_level"]
    assert later["sentence"] != got["sentence"]


def test_ivr_staffing_without_flags_reads_the_running_system(app: Flask) -> None:
    result = CliRunner().invoke(staffing_command, ["--json"])
    assert result.exit_code == 0, result.output
    got = support(json.loads(result.output)["queues"])
    assert got["agents"] == 3
    assert got["agents_needed"] is not None
    table = CliRunner().invoke(staffing_command, [])
    assert table.exit_code == 0, table.output
    assert got["sentence"] in table.output
