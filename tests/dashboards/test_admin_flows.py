"""Admin pages over the Flask test client with a real Redis and database: roles, CSRF,
validation at the line, publish and rollback heard by the next call, operator flags,
prompts and agents."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devkit.twilio_standin.leg import CallLeg, LegOptions
from devkit.twilio_standin.script import Script
from devkit.twilio_standin.transport import FlaskTransport
from tests.pg_schemas import same_database
from tests.twiml_validate import twiml_problems

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-auth-token"
BASE = "https://ivr.example.test"
TUESDAY_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
OLD_MENU = "For the status of an order, press 1"
NEW_MENU = "We are open Monday to Friday"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(redis_url: str, redis, tmp_path: Path) -> Flask:  # noqa: ARG001 - redis flushes
    from ivr import create_app

    flows = tmp_path / "callflows"
    shutil.copytree(REPO / "callflows", flows, ignore=shutil.ignore_patterns("*.md"))
    catalog = tmp_path / "prompts" / "catalog.yaml"
    catalog.parent.mkdir()
    shutil.copy(REPO / "prompts" / "catalog.yaml", catalog)
    application = create_app({
        "redis_url": redis_url, "twilio_auth_token": TOKEN,
        "twilio_account_sid": "AC" + "1" * 32, "public_base_url": BASE,
        "instance_dir": tmp_path / "instance", "flows_dir": flows,
        "prompts_catalog": catalog, "prompts_audio_dir": tmp_path / "audio"})
    application.testing = True
    application.extensions["ivr"].clock = lambda: TUESDAY_MORNING
    for user, role in (("ada", "admin"), ("sam", "supervisor"), ("ann", "agent")):
        add_user(application, user, role)
    return application


def add_user(app: Flask, username: str, role: str) -> None:
    import importlib

    from click.testing import CliRunner

    command = importlib.import_module("ivr.commands.user").command  # dashboards' auth

    env = {"IVR_INSTANCE_DIR": str(app.config["IVR"].instance_dir), "DATABASE_URL": same_database()}
    result = CliRunner().invoke(command, ["add", username, "--role", role, "--password",
                                          PASSWORD], env=env)
    assert result.exit_code == 0, result.output


def sign_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    form = {"username": username, "password": PASSWORD}
    if csrf:
        form["csrf_token"] = csrf.group(1).decode()
    response = client.post("/login", data=form)
    assert response.status_code in (302, 303), response.data[:500]
    return client


def csrf_of(client: FlaskClient, path: str = "/admin/flows/shop") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(rb'data-csrf="([^"]+)"|name="csrf_token" value="([^"]+)"', page.data)
    assert found
    return (found.group(1) or found.group(2)).decode()


def call_hears(app: Flask, script: str = "press 1; hangup") -> str:
    leg = CallLeg(BASE, FlaskTransport(app), Script.parse(script), auth_token=TOKEN,
                  from_="+14155550123", to="+14155550100",
                  options=LegOptions(max_hold_loops=1, check_audio=False,
                                     validate=twiml_problems))
    leg.run()
    assert leg.transcript.ok, leg.transcript.render()
    return " | ".join(leg.transcript.heard())


@pytest.fixture
def admin(app: Flask) -> tuple[FlaskClient, str]:
    client = sign_in(app, "ada")
    return client, csrf_of(client)


PAGES = ["/admin/flows", "/admin/flows/shop", "/admin/prompts", "/admin/operations",
         "/admin/agents"]


@pytest.mark.parametrize("path", PAGES)
def test_only_admins_see_admin_pages(app: Flask, path: str) -> None:
    anonymous = app.test_client().get(path)
    assert anonymous.status_code in (302, 303, 401, 403)
    if anonymous.status_code in (302, 303):
        assert "/login" in anonymous.headers["Location"]
    for user in ("sam", "ann"):
        assert sign_in(app, user).get(path).status_code == 403
    assert sign_in(app, "ada").get(path).status_code == 200


def test_posts_without_csrf_are_refused(app: Flask, admin: tuple[FlaskClient, str]) -> None:
    client, _ = admin
    text = (Path(app.config["IVR"].flows_dir) / "shop.yaml").read_text()
    assert client.post("/admin/flows/shop/check", json={"text": text}).status_code == 403
    assert client.post("/admin/flows/shop/publish", data={"text": text, "message": "x"}
                       ).status_code == 403
    assert client.post("/admin/operations/flags", data={"name": "emergency_closed",
                                                        "value": "on"}).status_code == 403
    assert client.post("/admin/flows/shop/rollback/1", data={"csrf_token": "forged"}
                       ).status_code == 403


def test_check_publish_and_rollback(app: Flask, admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    headers = {"X-CSRF-Token": csrf}
    original = (Path(app.config["IVR"].flows_dir) / "shop.yaml").read_text()
    broken = original.replace("say: shop_main_menu", "say: shop_main_manu", 1)
    line = broken.splitlines().index("    say: shop_main_manu") + 1
    checked = client.post("/admin/flows/shop/check", json={"text": broken}, headers=headers).json
    assert checked["ok"] is False
    assert checked["errors"][0]["line"] == line
    assert "-    say: shop_main_menu" in checked["diff"]
    refused = client.post("/admin/flows/shop/publish", data={
        "text": broken, "message": "typo", "csrf_token": csrf})
    assert refused.status_code == 422
    assert f"line {line}:".encode() in refused.data
    assert OLD_MENU in call_hears(app)

    new = original.replace("say: shop_main_menu", "say: shop_hours", 1)
    assert client.post("/admin/flows/shop/check", json={"text": new}, headers=headers).json["ok"]
    done = client.post("/admin/flows/shop/publish", data={
        "text": new, "message": "hours in the menu", "csrf_token": csrf})
    assert done.status_code == 303
    assert NEW_MENU in call_hears(app)
    page = client.get("/admin/flows/shop").data.decode()
    assert "hours in the menu" in page
    assert ">ada<" in page
    assert client.post("/admin/flows/shop/rollback/1", data={"csrf_token": csrf}
                       ).status_code == 303
    assert OLD_MENU in call_hears(app)
    assert "roll back to version 1" in client.get("/admin/flows").data.decode()


def test_trial_call_runs_the_draft_only(app: Flask, admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    original = (Path(app.config["IVR"].flows_dir) / "shop.yaml").read_text()
    new = original.replace("say: shop_main_menu", "say: shop_hours", 1)
    result = client.post("/admin/flows/shop/trial", json={
        "text": new, "answers": [{"digits": "1"}]}, headers={"X-CSRF-Token": csrf}).json
    assert NEW_MENU in " ".join(result["turns"][1]["heard"])
    assert app.extensions["ivr"].redis.keys("ivr:call:*") == []
    assert OLD_MENU in call_hears(app)


def test_emergency_switch_reaches_the_next_call(app: Flask,
                                                admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    assert client.post("/admin/operations/flags", data={
        "name": "emergency_closed", "value": "on", "csrf_token": csrf}).status_code == 303
    assert "ON" in client.get("/admin/operations").data.decode()
    heard = call_hears(app, "press 1; press 0; hangup")
    assert OLD_MENU in heard
    assert "Connecting you" not in heard


def test_prompt_text_edit_is_heard_and_escaped(app: Flask,
                                               admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    text = "Welcome to <script>alert(1)</script> Acme."
    assert client.post("/admin/prompts/shop_welcome/en-US", data={
        "text": text, "csrf_token": csrf}).status_code == 303
    assert "Welcome to <script>" in call_hears(app)
    page = client.get("/admin/prompts").data.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    backups = list((app.config["IVR"].instance_dir / "prompt-catalog-backups").iterdir())
    assert len(backups) == 1


def test_agent_skills_are_saved(app: Flask, admin: tuple[FlaskClient, str]) -> None:
    client, csrf = admin
    assert client.post("/admin/agents", data={
        "csrf_token": csrf, "id": "zed", "name": "Zed", "address": "client:zed",
        "skill_support": "4"}).status_code == 303
    agent = app.extensions["ivr"].queue_engine.agents.get("zed")
    assert agent.skills == {"support": 4}
    client.post("/admin/agents", data={"csrf_token": csrf, "id": "zed", "address": "client:zed",
                                       "skill_support": "9"})
    assert app.extensions["ivr"].queue_engine.agents.get("zed").skills == {"support": 4}


@pytest.mark.parametrize(("number", "says"), [
    ("+19005550100", "is a premium-rate number"),
    ("+15005550006", "is a personal (forwarding) number"),
    ("+18765550100", "is a number in JM; callbacks go to CA, US only"),  # queues.yaml's
])
def test_an_agent_phone_number_passes_the_callbacks_toll_fraud_rules(
        app: Flask, admin: tuple[FlaskClient, str], number: str, says: str) -> None:
    client, csrf = admin
    engine = app.extensions["ivr"].queue_engine
    form = {"csrf_token": csrf, "id": "zed", "address": number, "skill_support": "4"}
    refused = client.post("/admin/agents", data=form, follow_redirects=True)
    assert f"address: &#39;{number}&#39; {says}" in refused.data.decode()
    assert "zed" not in {a.id for a in engine.agents.all()}
    client.post("/admin/agents", data={**form, "address": "+16135550100"})  # Ottawa: CA
    assert engine.agents.get("zed").address == "+16135550100"


LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(("when", "closed"), [
    (datetime(2026, 12, 25, 10, 0, tzinfo=LA), True),    # a public holiday (holidays package)
    (datetime(2026, 12, 24, 14, 0, tzinfo=LA), True),    # past the part day's 13:00
    (datetime(2026, 12, 24, 12, 0, tzinfo=LA), False),   # ... and before it
    (datetime(2026, 12, 28, 10, 0, tzinfo=LA), True),    # the calendar's own date
])
def test_the_shared_calendar_closes_the_line(app: Flask, when: datetime, closed: bool) -> None:
    """shop.yaml's hours name calendars.yaml's us_west: its closures reach the caller."""
    app.extensions["ivr"].clock = lambda: when
    heard = call_hears(app, "press 1; press 0; hangup")
    assert ("closed today for the holiday" in heard) is closed, heard


def test_operations_page_lists_each_schedules_next_closures(
        admin: tuple[FlaskClient, str]) -> None:
    client, _ = admin
    page = client.get("/admin/operations").data.decode()
    assert page.count("calendar <code>us_west</code>") == 4  # two flows, two queue schedules
    assert re.search(r"(Mon|Tue|Wed|Thu|Fri|Sat) \d{4}-\d\d-\d\d [A-Z]", page)


def test_a_queues_file_refused_since_start_leaves_the_pages_up(
        app: Flask, admin: tuple[FlaskClient, str], tmp_path: Path) -> None:
    """The running engine keeps the queues it started with; the admin pages say the file is
    refused (FILE:LINE) instead of failing (issue 13, item 5)."""
    bad = tmp_path / "queues.yaml"
    bad.write_text((REPO / "queues.yaml").read_text().replace("max_size: 500", "max_size: lots"))
    svc = app.extensions["ivr"]
    svc.config = svc.config.with_overrides(queues_file=bad)
    client, _ = admin
    page = client.get("/admin/operations")
    assert page.status_code == 200
    line = next(i for i, t in enumerate(bad.read_text().splitlines(), 1) if "lots" in t)
    assert f"{bad}:{line}: queues.sales.max_size: lots is read as text" in page.data.decode()
    agents = client.get("/admin/agents")
    assert agents.status_code == 200
    assert "billing" in agents.data.decode()
