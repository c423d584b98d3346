"""Flow analytics end to end: calls played through the app (signed webhooks, the shop flow),
their events written by the real writer, then read by `ivr report flows`, the JSON and CSV API
and the store function they share. The figures are worked out by hand from the calls below."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask

from ivr.commands.report import command as report_command
from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database
from ivr.store.flow_analytics import flow_figures
from queue_worker.outcomes import drain_events
from tests.pg_schemas import same_database
from tests.signin import add_users, signed_in
from tests.web.conftest import BASE, sign, standard_params

MENU_DROP = [{"Digits": "1"}]                      # language, then hangs up at the main menu
SILENT_DROP = [{"Digits": "1"}, {}]                 # ... says nothing once, then hangs up
HOURS = [{"Digits": "1"}, {"Digits": "9"}, {"Digits": "3"}]  # a wrong key, then opening hours


def _post(app: Flask, path: str, params: dict[str, str]) -> None:
    answer = app.test_client().post(path, data=params,
                                    headers={"X-Twilio-Signature": sign(BASE + path, params)})
    assert answer.status_code == 200, answer.get_data(as_text=True)


def _call(app: Flask, sid: str, presses: list[dict[str, str]]) -> None:
    _post(app, "/voice", standard_params(sid))
    for seq, extra in enumerate(presses, start=1):
        _post(app, f"/voice/next?seq={seq}", standard_params(sid, **extra))
    _post(app, "/voice/status", standard_params(sid, CallStatus="completed",
                                                CallDuration="40"))


@pytest.fixture
def played(app: Flask, redis):  # type: ignore[no-untyped-def]
    _call(app, "CA" + "a" * 32, MENU_DROP)
    _call(app, "CA" + "b" * 32, SILENT_DROP)
    _call(app, "CA" + "c" * 32, HOURS)
    config = app.config["IVR"]
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url)
    result = drain_events(redis, make_session_factory(engine))
    assert (result.failed, result.rejected) == (0, 0)
    yield engine
    engine.dispose()


def _by_node(rows):  # type: ignore[no-untyped-def]
    return {r.node: r for r in rows}


def test_entries_retries_choices_and_drop_offs(played) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    nodes = _by_node(flow_figures(played, "shop", now - timedelta(hours=1),
                                  now + timedelta(hours=1), {"main_menu": "menu"}))
    language, menu = nodes["choose_language"], nodes["main_menu"]
    assert (language.entered, language.callers, language.choices) == (3, 3, {"1": 3})
    assert language.next == {"main_menu": 3}
    assert language.dropped == 0
    assert (menu.entered, menu.callers) == (3, 3)
    assert (menu.no_input, menu.no_match) == (1, 1)
    assert menu.choices == {"3": 1}
    assert menu.next == {"opening_hours": 1}
    assert (menu.ended, menu.dropped) == (2, 2)       # the two callers who hung up there
    assert menu.drop_rate == pytest.approx(2 / 3, abs=1e-3)
    assert nodes["opening_hours"].entered == 1
    assert menu.seconds is not None
    assert menu.seconds >= 0
    other_day = flow_figures(played, "shop", now - timedelta(days=3), now - timedelta(days=2))
    assert other_day == []


def test_the_api_and_the_command_read_the_same_figures(app: Flask, played) -> None:  # type: ignore[no-untyped-def]
    add_users(app.config["IVR"].instance_dir, sue="supervisor", ann="agent")
    assert signed_in(app, "ann").get("/api/reports/flows?flow=shop").status_code == 403
    sue = signed_in(app, "sue")
    got = sue.get("/api/reports/flows?flow=shop").get_json()
    menu = next(n for n in got["nodes"] if n["node"] == "main_menu")
    assert (menu["entered"], menu["dropped"], menu["node_type"]) == (3, 2, "menu")
    assert sue.get("/api/reports/flows").status_code == 400       # which flow?
    assert sue.get("/api/reports/flows?flow=shop&days=0").status_code == 400
    table = list(csv.DictReader(io.StringIO(
        sue.get("/api/reports/flows.csv?flow=shop").get_data(as_text=True))))
    assert next(r for r in table if r["node"] == "main_menu")["no_match"] == "1"
    config = app.config["IVR"]
    env = {"IVR_INSTANCE_DIR": str(config.instance_dir), "DATABASE_URL": same_database(),
           "REDIS_URL": config.redis_url or ""}
    printed = CliRunner().invoke(report_command, ["flows", "--flow", "shop", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    (shop,) = json.loads(printed.output)
    assert shop["nodes"] == got["nodes"]
    text = CliRunner().invoke(report_command, ["flows", "--flow", "shop"], env=env)
    assert "main_menu" in text.output
