"""Users and signed-in test clients for the page and API tests (one copy, not one per file).

Users are added with the real `ivr user add` into the outcome database the test's apps use
(SQLite under the app's instance folder, or the test's own PostgreSQL schema when
DATABASE_URL names one: tests/pg_schemas.py); signing in posts the real login form with
its CSRF token."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from ivr.commands.user import command as user_command
from tests.pg_schemas import same_database

PASSWORD = "correct horse battery"
_TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')


def pages_app(redis_url: str, tmp_path: Path, users: Mapping[str, str],
              **settings: Any) -> Flask:
    """An app for the page tests, with `users` (name -> role) added: on `redis_url`, its own
    instance folder, no prompt audio (<Say> text) and a webhook token, "t" (the pages never
    check it); `settings` add or replace `create_app` overrides (by Config field name)."""
    from ivr import create_app

    app = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                      "instance_dir": tmp_path / "instance",
                      "prompts_audio_dir": tmp_path / "no-audio", **settings})
    add_users(tmp_path / "instance", **users)
    return app


def add_users(instance_dir: Path, **roles: str) -> None:
    """Users (name=role) in the outcome database of apps whose instance folder is
    `instance_dir` (SQLite there, or DATABASE_URL's), via `ivr user`."""
    env = {"IVR_INSTANCE_DIR": str(instance_dir), "DATABASE_URL": same_database()}
    for name, role in roles.items():
        result = CliRunner().invoke(user_command, ["add", name, "--role", role,
                                                   "--password", PASSWORD], env=env)
        assert result.exit_code == 0, result.output


def login_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, as the sign-in page carries it."""
    found = _TOKEN.search(client.get("/login").data)
    assert found, "the sign-in page carries no CSRF token"
    return found.group(1).decode()


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A test client signed in as `username` (the sign-in must succeed)."""
    client = app.test_client()
    done = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": login_token(client)})
    assert done.status_code == 303, done.data
    return client
