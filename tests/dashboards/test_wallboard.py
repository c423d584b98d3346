"""Wallboard thresholds from queues.yaml and the board judged against them (levels, alerts,
overdue callbacks), read over the signed-in JSON view."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask

from dashboards.wallboard_config import Thresholds, judge, load_thresholds, parse_thresholds
from ivr import create_app
from ivr.domain.errors import ConfigError
from tests.signin import add_users, signed_in

REPO = Path(__file__).resolve().parents[2]
QUEUES = ["billing", "sales", "support"]


def test_thresholds_default_then_per_queue_overrides():
    got = parse_thresholds({"wallboard": {"defaults": {"wait_warn": 30, "wait_alert": 90},
                                          "queues": {"sales": {"wait_alert": 600}}}}, QUEUES)
    assert got["support"] == Thresholds(wait_warn=30, wait_alert=90)
    assert got["sales"].wait_alert == 600
    assert got["sales"].wait_warn == 30  # the defaults section still applies
    assert parse_thresholds({}, QUEUES)["billing"] == Thresholds()


def test_the_shipped_queues_yaml_thresholds_load():
    got = load_thresholds(REPO / "queues.yaml", QUEUES)
    assert got["sales"].wait_alert == 300
    assert got["support"] == Thresholds()  # the file spells out the defaults


@pytest.mark.parametrize(("section", "says"), [
    ({"defaults": {"wait_warning": 3}}, "unknown threshold(s) ['wait_warning']"),
    ({"queues": {"sails": {}}}, "unknown queue(s) ['sails']"),
    ({"defaults": {"wait_warn": 300}}, "must not be past its *_alert"),
    ({"defaults": {"service_level_warn": 0.5}}, "service_level_warn must be >="),
    ({"defaults": {"wait_warn": "soon"}}, "must be a number"),
])
def test_wrong_thresholds_say_what_to_fix(section, says):
    with pytest.raises(ConfigError) as err:
        parse_thresholds({"wallboard": section}, QUEUES, "q.yaml")
    assert says in str(err.value)
    assert str(err.value).startswith("q.yaml: ")


def test_ivr_check_reports_wrong_thresholds(tmp_path):
    from ivr.commands.check import command as check_command

    queues = tmp_path / "queues.yaml"
    shipped = (REPO / "queues.yaml").read_text()
    queues.write_text(shipped)
    args = [str(REPO / "callflows"), "--queues", str(queues)]
    ok = CliRunner().invoke(check_command, args)
    assert ok.exit_code == 0, ok.output
    assert "ok: wallboard thresholds for 3 queues" in ok.output
    queues.write_text(shipped.replace("wait_alert: 180", "wait_alert: 30"))
    bad = CliRunner().invoke(check_command, args)
    assert bad.exit_code == 1
    line = next(i for i, text in enumerate(shipped.splitlines(), 1) if "wait_warn: 60" in text)
    assert f"{queues}:{line}: wallboard.defaults: a *_warn threshold must not be past" \
        in bad.output


def row(**over):  # type: ignore[no-untyped-def]
    base = {"queue": "support", "waiting": 2, "longest_wait": 10.0, "service_level": 0.9,
            "abandon_rate": 0.01, "callbacks_overdue": 0, "agents": {"available": 1}}
    return {**base, **over}


def test_judge_levels_and_alerts():
    t = Thresholds()
    assert judge(row(), t) == ({"longest_wait": "ok", "service_level": "ok",
                                "abandon_rate": "ok", "callbacks_overdue": "ok"}, [])
    levels, alerts = judge(row(longest_wait=61.0, service_level=0.7, abandon_rate=0.06), t)
    assert (levels["longest_wait"], levels["service_level"], levels["abandon_rate"]) == (
        "warn", "warn", "warn")
    assert alerts == []  # amber is shown, not announced
    levels, alerts = judge(row(longest_wait=200.0, service_level=0.5, abandon_rate=0.2,
                               callbacks_overdue=2, agents={"offline": 3}), t)
    assert set(levels.values()) == {"alert"}
    assert alerts == [
        "support: a caller has waited 3 min 20 s (alert at 3 min 0 s)",
        "support: service level 50 % today (alert below 60 %)",
        "support: 20 % of callers abandoned today (alert at 10 %)",
        "support: 2 callback(s) overdue (due more than 15 min 0 s ago)",
        "support: 2 caller(s) waiting and no agent signed in"]
    assert judge(row(service_level=None, abandon_rate=None), t)[0]["service_level"] == "ok"


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    setup = yaml.safe_load((REPO / "queues.yaml").read_text())
    setup["wallboard"] = {"defaults": {"wait_warn": 20, "wait_alert": 60,
                                       "callback_overdue": 600},
                          "queues": {"sales": {"wait_alert": 3600, "wait_warn": 1800}}}
    queues = tmp_path / "queues.yaml"
    queues.write_text(yaml.safe_dump(setup))
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "instance_dir": tmp_path / "instance", "queues_file": queues,
                              "prompts_audio_dir": tmp_path / "no-audio"})
    add_users(tmp_path / "instance", sue="supervisor", alice="agent")
    return application


def test_board_judges_each_queue_against_its_own_thresholds(app: Flask):
    engine = app.extensions["ivr"].queue_engine
    now = time.time()
    engine.join("CA" + "1" * 32, "support", now - 100)  # past support's 60 s alert
    engine.join("CA" + "2" * 32, "sales", now - 100)  # sales alerts only after an hour
    engine.callbacks.request("support", "+14155550123", now - 700)  # due 700 s ago: overdue
    engine.callbacks.request("support", "+14155550124", now - 10)
    engine.callbacks.request("sales", "+14155550125", now - 10, not_before=None)
    engine.agent_presence("alice", "available", now)
    board = signed_in(app, "sue").get("/wallboard/board.json").get_json()
    by_queue = {q["queue"]: q for q in board["queues"]}
    support, sales = by_queue["support"], by_queue["sales"]
    assert (support["callbacks_pending"], support["callbacks_overdue"]) == (2, 1)
    assert (sales["callbacks_pending"], sales["callbacks_overdue"]) == (1, 0)
    assert support["levels"]["longest_wait"] == "alert"
    assert sales["levels"]["longest_wait"] == "ok"
    alerts = [re.sub(r"\d+ s \(", "N s (", a) for a in board["alerts"]]  # seconds go on
    assert alerts == [  # a callback waits in line too (the longest here)
        "sales: 2 caller(s) waiting and no agent signed in",  # alice has no sales skill
        "support: a caller has waited 11 min N s (alert at 1 min 0 s)",
        "support: 1 callback(s) overdue (due more than 10 min 0 s ago)"]
    assert board["thresholds"]["sales"]["wait_alert"] == 3600
    assert board["thresholds"]["billing"]["wait_alert"] == 60
    assert len(board["history"]["minutes"]) == 60
    alice = next(a for a in board["agents"] if a["id"] == "alice")
    assert (alice["state"], alice["handled"], alice["aht"]) == ("available", 0, None)


def test_wallboard_routes_need_a_supervisor(app: Flask):
    anonymous = app.test_client()
    for path in ("/wallboard", "/wallboard/events", "/wallboard/board.json"):
        assert anonymous.get(path).status_code == 302
        assert signed_in(app, "alice").get(path).status_code == 403
    page = signed_in(app, "sue").get("/wallboard")
    assert page.status_code == 200
    assert b'"wait_alert": 3600' in page.data or b'"wait_alert":3600' in page.data
    assert b"/static/vendor/uplot/uPlot.iife.min.js" in page.data
    assert signed_in(app, "sue").get("/static/vendor/uplot/uPlot.iife.min.js").status_code == 200


def test_board_shows_todays_ranges_and_the_staffing_advice(app: Flask):
    """Answered callers' waits against the ranges they were told, through the real writer,
    and the staffing advisor's sentence, on each queue's card data."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import sessionmaker

    from dashboards.auth import user_engine
    from ivr.store.events import publish_event
    from queue_worker.outcomes import drain_events

    local = datetime.now(ZoneInfo("America/Los_Angeles"))  # queues.yaml's business day
    if local.hour * 60 + local.minute < 10:
        pytest.skip("the business day began a moment ago")
    svc = app.extensions["ivr"]
    now = time.time() - 300
    for i, (wait, low, high) in enumerate(((20.0, 10.0, 40.0), (90.0, 10.0, 50.0))):
        sid = f"CA{i:032d}"
        publish_event(svc.redis, "call_started", sid, {"caller": "+14155550100",
                                                       "dialed": "+1", "flow": "shop"}, now)
        publish_event(svc.redis, "queue_joined", sid, {"queue": "support"}, now)
        publish_event(svc.redis, "agent_answered", sid, {"queue": "support", "agent": "alice"},
                      now + wait)
        publish_event(svc.redis, "queue_left", sid, {
            "queue": "support", "result": "bridged", "wait": wait, "range_low": low,
            "range_high": high, "in_range": low <= wait <= high}, now + wait)
    with app.app_context():
        assert drain_events(svc.redis, sessionmaker(user_engine())).failed == 0
    svc.queue_engine.agent_presence("alice", "available", time.time())
    board = signed_in(app, "sue").get("/wallboard/board.json").get_json()
    support = next(q for q in board["queues"] if q["queue"] == "support")
    assert support["ranges"] == {"in_range_share": 0.5, "range_width": 35.0, "ranges_told": 2}
    assert support["staffing"]["agents"] == 1
    assert support["staffing"]["sentence"].endswith("to reach 80 % in 20 s")


def test_agent_aht_on_the_board_is_talk_plus_hold_plus_after_call_work(app: Flask):
    """The wallboard's agent table uses the reports' AHT (docs/reports.md): one call with a
    20 s hold inside 60 s in the conference and 10 s of wrap-up (40 + 20 + 10 = 70), one plain
    bridged call of 30 s talk and 20 s wrap-up (50): AHT 60, mean hold 10."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import sessionmaker

    from dashboards.auth import user_engine
    from ivr.store.events import publish_event
    from queue_worker.outcomes import drain_events

    local = datetime.now(ZoneInfo("America/Los_Angeles"))  # queues.yaml's business day
    if local.hour * 60 + local.minute < 10:
        pytest.skip("the business day began a moment ago")
    svc = app.extensions["ivr"]
    now = time.time() - 300
    calls = {
        "CA" + "1" * 32: [("hold_ended", 40, {"agent": "alice", "seconds": 20.0}),
                          ("agent_left", 70, {"agent": "alice", "talk": 60.0, "hold": 20.0}),
                          ("call_ended", 70, {}),
                          ("wrap_up", 80, {"agent": "alice", "seconds": 10.0,
                                           "ended": "timeout"})],
        "CA" + "2" * 32: [("call_ended", 40, {}),
                          ("wrap_up", 60, {"agent": "alice", "seconds": 20.0,
                                           "ended": "early"})],
    }
    for sid, events in calls.items():
        publish_event(svc.redis, "call_started", sid, {"caller": "+14155550100",
                                                       "dialed": "+1", "flow": "shop"}, now)
        publish_event(svc.redis, "queue_joined", sid, {"queue": "support"}, now)
        publish_event(svc.redis, "agent_answered", sid, {"queue": "support", "agent": "alice"},
                      now + 10)
        for kind, t, data in events:
            publish_event(svc.redis, kind, sid, data, now + t)
    with app.app_context():
        assert drain_events(svc.redis, sessionmaker(user_engine())).failed == 0
    board = signed_in(app, "sue").get("/wallboard/board.json").get_json()
    alice = next(a for a in board["agents"] if a["id"] == "alice")
    assert (alice["handled"], alice["aht"], alice["hold"], alice["transfer_rate"]) == (
        2, 60.0, 10.0, 0.0)


def test_board_shows_who_holds_a_caller_now_and_callers_on_hold_per_queue(app: Flask):
    """The agent floor live (dashboards/floor_board.py): Alice's caller has been on hold
    for about 40 s; Dan, on another support call that is not held, holds nobody; Carol, on
    a sales call held by another agent, is not the one holding (she was consulted)."""
    from ivr.domain.floor import Leg
    from ivr.store.floor import FloorStore

    svc = app.extensions["ivr"]
    store, engine, now = FloorStore(svc.redis), svc.queue_engine, time.time()
    calls = {"alice": ("CA" + "a" * 32, "support", now - 40), "dan": ("CA" + "d" * 32,
             "support", None), "carol": ("CA" + "c" * 32, "sales", now - 5)}
    for agent, (call, queue, held_since) in calls.items():
        store.create(call, queue, conference="CF" + call[2:])
        store.add_leg(call, Leg(call, "caller", "caller", "joined", held=bool(held_since)))
        role = "consult" if agent == "carol" else "agent"
        store.add_leg(call, Leg("CA" + agent[0] * 2 + "0" * 30, role, agent, "joined", since=1.0))
        if held_since:
            store.set(call, held_since=repr(held_since), hold_count="1")
        assert engine.agents.floor_joined(agent, call, now)  # on_call with that caller
    board = signed_in(app, "sue").get("/wallboard/board.json").get_json()
    rows = {a["id"]: a for a in board["agents"]}
    assert 39.0 <= rows["alice"]["on_hold"] < 60.0
    assert (rows["dan"]["on_hold"], rows["carol"]["on_hold"], rows["bob"]["on_hold"]) == (
        None, None, None)
    queues = {q["queue"]: q for q in board["queues"]}
    assert (queues["support"]["on_hold"], queues["sales"]["on_hold"]) == (1, 0)
    assert {"aht", "hold", "transfer_rate"} <= set(queues["support"])
    assert "after_call" in rows["alice"]
