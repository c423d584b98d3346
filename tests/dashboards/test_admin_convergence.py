"""Two web processes (two apps, each with its own copy of the flows, as on two machines) on
one Redis: a flow published through one is what the next call on the other hears, because
every request first checks the publish generation (ivr/app/flow_publisher.py converge_flows)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport
from tests.twiml_validate import twiml_problems

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-auth-token"
BASE = "https://ivr.example.test"
TUESDAY_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
OLD_MENU = "For the status of an order, press 1"
NEW_MENU = "We are open Monday to Friday"


def make_app(redis_url: str, folder: Path, database: Path) -> Flask:
    from ivr import create_app

    flows = folder / "callflows"
    shutil.copytree(REPO / "callflows", flows, ignore=shutil.ignore_patterns("*.md"))
    app = create_app({"redis_url": redis_url, "twilio_auth_token": TOKEN,
                      "twilio_account_sid": "AC" + "1" * 32, "public_base_url": BASE,
                      "instance_dir": folder / "instance", "flows_dir": flows,
                      "database_url": f"sqlite:///{database}",
                      "prompts_audio_dir": folder / "no-audio",
                      "flow_converge_every": 0})  # check on every request (default: 1 s)
    app.extensions["ivr"].clock = lambda: TUESDAY_MORNING
    return app


def call_hears(app: Flask) -> str:
    leg = CallLeg(BASE, FlaskTransport(app), Script.parse("press 1; hangup"), auth_token=TOKEN,
                  from_="+14155550123", to="+14155550100",
                  options=LegOptions(max_hold_loops=1, check_audio=False,
                                     validate=twiml_problems))
    leg.run()
    assert leg.transcript.ok, leg.transcript.render()
    return " | ".join(leg.transcript.heard())


def test_a_publish_on_one_process_is_heard_on_another(redis_url: str, redis,  # noqa: ARG001
                                                      tmp_path: Path) -> None:
    from dashboards.admin_support import ensure_schema, publisher

    database = tmp_path / "shared.sqlite3"
    one = make_app(redis_url, tmp_path / "one", database)
    two = make_app(redis_url, tmp_path / "two", database)
    assert OLD_MENU in call_hears(two)
    with one.test_request_context("/admin/flows"):
        ensure_schema()
        pub = publisher()
        pub.publish("shop", pub.live_text("shop").replace("say: shop_main_menu",
                                                          "say: shop_hours", 1),
                    "ada", "hours in the menu", datetime.now(UTC))
        one.extensions["ivr"].flows.reload()
    assert NEW_MENU in call_hears(one)
    assert NEW_MENU in call_hears(two)
    assert "say: shop_hours" in (tmp_path / "two" / "callflows" / "shop.yaml").read_text()
