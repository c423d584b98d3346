"""Sign-in, roles, CSRF and login rate limiting for every page and JSON API.

- `/login` (GET form, POST) and `/logout` (POST, ends all the user's sessions). Sessions are
  Flask's signed cookies, made HttpOnly, SameSite=Lax and Secure when PUBLIC_BASE_URL is
  https, and checked on every request by `session_user_or_none` (user's session version,
  absolute lifetime, idle time: dashboards/sessions.py).
- `require_role(*roles)`: a page asked for without a session redirects to `/login?next=`; a
  JSON API (`/api/...`) answers 401; a signed-in user without the role gets 403. Admins have
  every role.
- `csrf_token()`: one random token per session, for forms (`csrf_token` field) and fetch()
  (`X-CSRF-Token` header); every POST through `require_role` and the login form checks it.
- Login attempts: counted before the password is checked, per client and per (client, user
  name), atomically in Redis and shared by all web processes (dashboards/login_limits.py,
  IVR_LOGIN_*); over a limit, 429 until the window passes. One client cannot lock a user
  out of another. An unknown name costs one password hash, as a known one does.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from sqlalchemy import Engine

from dashboards.login_limits import LoginAttempts, LoginLimits, client_id
from dashboards.sessions import SessionLimits, new_session, session_problem, touch
from ivr.app.services import services
from ivr.store.db import database_url, make_engine, upgrade_database
from ivr.store.users import User, authenticate, dummy_hash, find_user, revoke_sessions

bp = Blueprint("auth", __name__)
_ENGINE_LOCK = threading.Lock()

LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in</title>
<link rel="icon" type="image/svg+xml" href="{{ url_for('assets.static', filename='favicon.svg') }}">
<link rel="stylesheet" href="{{ url_for('assets.static', filename='login.css') }}"></head><body>
<main><h1>Sign in</h1>{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ url_for('auth.login', next=next) }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required value="{{ username }}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>"""


def _with_shared_templates(app: Flask) -> Any:
    """Pages extend dashboards/templates/base.html whatever blueprint renders them."""
    from pathlib import Path

    from jinja2 import ChoiceLoader, FileSystemLoader

    shared = FileSystemLoader(str(Path(__file__).parent / "templates"))
    return ChoiceLoader([loader for loader in (app.jinja_loader, shared) if loader])


def user_engine() -> Engine:
    """The database engine for users (the outcome database), schema upgraded on first use."""
    found = current_app.extensions.get("ivr_users_engine")
    if found is None:
        with _ENGINE_LOCK:
            found = current_app.extensions.get("ivr_users_engine")
            if found is None:
                config = current_app.config["IVR"]
                url = database_url(config.database_url, config.instance_dir)
                upgrade_database(url)
                found = make_engine(url, **config.db_pool())
                current_app.extensions["ivr_users_engine"] = found
    return found


def session_limits() -> SessionLimits:
    config = current_app.config["IVR"]
    return SessionLimits(idle=config.session_idle, max_age=config.session_max_age)


def session_user_or_none(data: Mapping[str, Any], now: float | None = None) -> User | None:
    """The user a session (its opened, signature-checked data) still speaks for, or None.

    The one check every signed-in request goes through: the pages (`require_role`, via
    `current_user`) and the wallboard's stream service (ivr/live/stream_auth.py), which calls
    it at connect and again every few seconds for as long as a stream is open. Refused: a
    deleted user, a changed role, a session made before the user's last logout or password
    or role change, one older than IVR_SESSION_MAX_AGE or idle longer than IVR_SESSION_IDLE
    (dashboards/sessions.py). Needs an app context (the user database)."""
    name = data.get("user")
    if not name:
        return None
    user = find_user(user_engine(), str(name))
    if user is None:
        return None  # deleted: sign in again
    at = time.time() if now is None else now
    return None if session_problem(data, user, session_limits(), at) else user


def current_user() -> User | None:
    now = time.time()
    user = session_user_or_none(session, now)
    if user is None and session.get("user"):
        session.clear()
    elif user is not None:
        touch(session, now)
    return user


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    if not hmac.compare_digest(str(sent), csrf_token()):
        abort(403, description="missing or stale CSRF token: reload the page and try again")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if _wants_json():
                    return jsonify(error="sign in first (POST /login)"), 401
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not user.has_role(*roles):
                if _wants_json():
                    return jsonify(error=f"needs role {' or '.join(roles)}"), 403
                abort(403, description=f"this page needs the role {' or '.join(roles)}")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                check_csrf()
            return view(*args, **kwargs)

        return checked

    return wrap


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another origin) after signing in."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not (target or "").startswith("/"):
        return "/"
    return target or "/"


def login_limits() -> LoginLimits:
    config = current_app.config["IVR"]
    return LoginLimits(window=config.login_window, max_per_user=config.login_max_per_user,
                       max_per_client=config.login_max_per_client)


def _login_page(nxt: str, username: str, error: str | None) -> str:
    return render_template_string(LOGIN_PAGE, csrf=csrf_token(), next=nxt, error=error,
                                  username=username)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    nxt = _safe_next(request.args.get("next"))
    if request.method == "GET":
        return _login_page(nxt, "", None)
    check_csrf()
    username = (request.form.get("username") or "").strip().lower()[:64]
    # Counted before the password is checked (dashboards/login_limits.py); the client is the
    # address ProxyFix trusts (IVR_PROXY_HOPS), never a header anyone can send.
    attempts = LoginAttempts(services().redis, login_limits(), client_id(request.remote_addr),
                             username)
    if not attempts.admit():
        return _login_page(nxt, username, "Too many attempts: wait a few minutes, then try "
                           "again."), 429
    user = authenticate(user_engine(), username, request.form.get("password") or "")
    if user is None:
        return _login_page(nxt, username, "Wrong user name or password."), 401
    attempts.succeeded()
    session.clear()
    session.update(new_session(user, secrets.token_urlsafe(32), time.time()))
    session.permanent = True
    return redirect(nxt, code=303)


# Where "/" takes a signed-in user: the page their role works in (a new user who signs in
# without a `next` must land somewhere useful, not on a 404).
HOME_BY_ROLE = {"admin": "/admin/flows", "supervisor": "/wallboard", "agent": "/agent"}


@bp.get("/")
def home() -> Any:
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return redirect(HOME_BY_ROLE.get(user.role, "/agent"))


@bp.post("/logout")
def logout() -> Any:
    """Sign out everywhere: the user's session version moves on, so every cookie they hold
    (this browser's, a copied one, another device's) stops working, not only this one."""
    check_csrf()
    user = current_user()
    if user is not None:
        revoke_sessions(user_engine(), user.username)
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.record
def _secure_cookies(state: Any) -> None:
    app: Flask = state.app
    app.jinja_env.globals.update(current_user=current_user, csrf_token=csrf_token)
    app.jinja_loader = _with_shared_templates(app)
    dummy_hash()  # made now, so even the first unknown name costs one hash, not two
    config = app.config["IVR"]
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=config.public_base_url.startswith("https://"),
                      PERMANENT_SESSION_LIFETIME=config.session_idle)
