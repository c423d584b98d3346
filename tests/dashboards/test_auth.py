"""Sign-in: passwords, roles, CSRF, rate limiting, safe redirects."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask

from ivr import create_app
from ivr.commands.user import command as user_command
from tests.pg_schemas import same_database

PASSWORD = "correct horse battery"


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "instance_dir": tmp_path / "instance"})
    env = {"IVR_INSTANCE_DIR": str(tmp_path / "instance"), "DATABASE_URL": same_database()}
    for name, role in (("ada", "admin"), ("ann", "agent")):
        result = CliRunner().invoke(user_command, ["add", name, "--role", role,
                                                   "--password", PASSWORD], env=env)
        assert result.exit_code == 0, result.output
    return application


def csrf(client) -> str:
    page = client.get("/login")
    return re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()


def test_sign_in_and_roles(app: Flask):
    client = app.test_client()
    assert client.get("/admin/flows").status_code == 302  # to the sign-in page
    assert client.get("/admin/flows").headers["Location"].startswith("/login")
    token = csrf(client)
    done = client.post("/login?next=/admin/flows", data={
        "username": "ann", "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/flows"
    assert client.get("/admin/flows").status_code == 403  # agents are not admins
    admin = app.test_client()
    admin.post("/login", data={"username": "ada", "password": PASSWORD,
                               "csrf_token": csrf(admin)})
    assert admin.get("/admin/flows").status_code == 200
    cookie = next(h for h in done.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_missing_csrf_and_rate_limit(app: Flask):
    client = app.test_client()
    no_csrf = client.post("/login", data={"username": "ada", "password": PASSWORD})
    assert no_csrf.status_code == 403
    token = csrf(client)
    for _ in range(5):
        bad = client.post("/login", data={"username": "ada", "password": "nope nope nope",
                                           "csrf_token": token})
        assert bad.status_code == 401
        assert b"Wrong user name or password." in bad.data
    blocked = client.post("/login", data={"username": "ada", "password": PASSWORD,
                                           "csrf_token": token})
    assert blocked.status_code == 429  # even the right password waits out the window


def test_next_never_leaves_the_site(app: Flask):
    client = app.test_client()
    done = client.post("/login?next=https://evil.example/x", data={
        "username": "ada", "password": PASSWORD, "csrf_token": csrf(client)})
    assert done.headers["Location"] == "/"


def test_weak_password_and_unknown_role_are_refused(tmp_path):
    env = {"IVR_INSTANCE_DIR": str(tmp_path / "i"), "DATABASE_URL": same_database()}
    weak = CliRunner().invoke(user_command, ["add", "bob", "--role", "agent",
                                             "--password", "short"], env=env)
    assert weak.exit_code != 0
    assert "at least 10 characters" in str(weak.exception or weak.output)


def test_agent_api_needs_a_session_and_agents_change_only_themselves(app: Flask):
    anonymous = app.test_client()
    assert anonymous.get("/api/agents").status_code == 401
    ann = app.test_client()
    ann.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": csrf(ann)})
    assert ann.get("/api/agents").status_code == 200
    other = ann.post("/api/agents/alice/presence", json={"state": "available"},
                     headers={"X-CSRF-Token": csrf(ann)})
    assert other.status_code == 403
    ada = app.test_client()
    ada.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": csrf(ada)})
    no_token = ada.post("/api/agents/alice/presence", json={"state": "available"})
    assert no_token.status_code == 403  # CSRF on the JSON API too
    done = ada.post("/api/agents/alice/presence", json={"state": "available"},
                    headers={"X-CSRF-Token": csrf(ada)})
    assert done.status_code == 200
    assert done.get_json()["presence"] == "available"


def test_home_sends_each_role_to_its_page(app: Flask):
    client = app.test_client()
    assert client.get("/").headers["Location"].startswith("/login")
    token = csrf(client)
    done = client.post("/login", data={"username": "ann", "password": PASSWORD,
                                       "csrf_token": token})
    assert done.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/agent"
    admin = app.test_client()
    admin.post("/login", data={"username": "ada", "password": PASSWORD,
                               "csrf_token": csrf(admin)})
    assert admin.get("/").headers["Location"] == "/admin/flows"
