"""Page sessions end (issue 12, item 6): logout, a new password and a new role revoke every
session of the user, wherever its cookie is; a session ends after the absolute lifetime
however busy it is, and after the idle time; the one check (`session_user_or_none`) is what
the stream service calls too."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from dashboards.auth import session_user_or_none
from ivr import create_app
from ivr.commands.user import command as user_command
from tests import signin
from tests.pg_schemas import same_database

MAX_AGE, IDLE = 12 * 3600, 2 * 3600


@pytest.fixture
def app(redis_url: str, redis, tmp_path) -> Flask:  # noqa: ARG001 - redis flushes
    application = create_app({"redis_url": redis_url, "twilio_auth_token": "t",
                              "instance_dir": tmp_path / "instance",
                              "session_max_age": MAX_AGE, "session_idle": IDLE})
    signin.add_users(tmp_path / "instance", ann="agent", sue="supervisor")
    return application


def _cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """A fresh browser holding a copy of a cookie (taken before it was cleared)."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _signed_in(client: FlaskClient) -> bool:
    """True when the client's session still opens the agent console (never a redirect)."""
    answer = client.get("/agent")
    assert answer.status_code in (200, 302), answer.status_code
    return answer.status_code == 200


def _user(app: Flask, name: str, role: str, password: str) -> None:
    env = {"IVR_INSTANCE_DIR": str(app.config["IVR"].instance_dir), "DATABASE_URL": same_database()}
    done = CliRunner().invoke(user_command, ["add", name, "--role", role,
                                             "--password", password], env=env)
    assert done.exit_code == 0, done.output


def test_logout_revokes_every_session_of_that_user_only(app: Flask):
    laptop, phone = signin.signed_in(app, "ann"), signin.signed_in(app, "ann")
    sue = signin.signed_in(app, "sue")
    copied = _cookie(laptop)
    assert _signed_in(laptop)
    assert _signed_in(phone)
    out = laptop.post("/logout", data={"csrf_token": signin.login_token(laptop)})
    assert out.status_code == 303
    assert not _signed_in(_replay(app, copied))  # the old cookie, replayed
    assert not _signed_in(phone)  # the same user's other browser
    assert _signed_in(sue)  # another user is not touched
    assert _signed_in(signin.signed_in(app, "ann"))  # and ann can sign in again


def test_a_new_password_revokes_old_sessions(app: Flask):
    ann = signin.signed_in(app, "ann")
    assert _signed_in(ann)
    _user(app, "ann", "agent", "a brand new password")
    assert not _signed_in(ann)


def test_a_role_change_revokes_old_sessions_even_when_changed_back(app: Flask):
    ann = signin.signed_in(app, "ann")
    copied = _cookie(ann)
    _user(app, "ann", "supervisor", signin.PASSWORD)
    assert not _signed_in(ann)
    _user(app, "ann", "agent", signin.PASSWORD)  # the role in the old cookie again
    assert not _signed_in(_replay(app, copied))


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app: Flask):
    ann = signin.signed_in(app, "ann")
    with ann.session_transaction() as data:  # signed in almost 12 h ago, used a second ago
        data["iat"] = int(time.time()) - MAX_AGE + 30
        data["seen"] = int(time.time()) - 1
    assert _signed_in(ann)
    with ann.session_transaction() as data:  # now past 12 h, still used a second ago
        data["iat"] = int(time.time()) - MAX_AGE - 1
        data["seen"] = int(time.time()) - 1
    assert not _signed_in(ann)


def test_a_session_ends_when_idle_and_use_keeps_it_alive(app: Flask):
    ann = signin.signed_in(app, "ann")
    with ann.session_transaction() as data:
        data["seen"] = int(time.time()) - IDLE + 120
    assert _signed_in(ann)  # used now: seen moves on
    with ann.session_transaction() as data:
        assert data["seen"] >= int(time.time()) - 5
        data["seen"] = int(time.time()) - IDLE - 1
    assert not _signed_in(ann)


def test_a_cookie_from_before_session_limits_is_refused(app: Flask):
    ann = app.test_client()
    with ann.session_transaction() as data:  # what the old sign-in stored, validly signed
        data.update(user="ann", role="agent", csrf="x")
    assert not _signed_in(ann)


def test_the_shared_check_the_stream_service_calls_sees_revocations(app: Flask):
    ann = signin.signed_in(app, "ann")
    with ann.session_transaction() as data:
        opened = dict(data)
    with app.app_context():
        assert session_user_or_none(opened).username == "ann"
        assert session_user_or_none(opened, now=opened["iat"] + MAX_AGE + 1) is None
    _user(app, "ann", "agent", "a brand new password")
    with app.app_context():
        assert session_user_or_none(opened) is None
