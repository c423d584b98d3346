"""Who is asking for a stream: the page's own session cookie, checked the pages' way.

The browser sends the Flask session cookie with the stream request (same site, or
`withCredentials` across ports). It is opened with the Flask app's own session interface (so
the signature, the secret key and the cookie's lifetime are checked exactly as for a page),
and the opened session goes through `dashboards.auth.session_user_or_none`, the one function
`require_role` uses too: a deleted user, a changed role, a logout (the user's session version
moves on), the absolute lifetime and the idle limit all apply to streams without a second
copy here.

Opening a stream counts as using the page, as it did when Flask served it: the session is
touched and its refreshed cookie goes back on the stream's response (`Set-Cookie`, written by
the same session interface). A wall screen reconnects every few minutes, so it is not
"idle" while it shows the board; the absolute lifetime still ends it. An open stream is
re-checked on the session data it was admitted with (as touched).

The checks read the user database, so they run on a small named thread pool, never on the
event loop.
"""

from __future__ import annotations

import asyncio
import enum
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from dashboards.auth import session_user_or_none
from dashboards.sessions import touch
from dashboards.wallboard import STREAM_PATH

ROLES = ("supervisor",)  # admins too: User.has_role lets an admin do everything


class Verdict(enum.Enum):
    ALLOWED = 200
    SIGN_IN = 401  # no session, a forged or expired cookie, a session no longer valid
    FORBIDDEN = 403  # signed in, but not a supervisor (nor an admin)


@dataclass(frozen=True)
class Admission:
    """The verdict, and for an allowed stream the session data to re-check later and the
    `Set-Cookie` header values that refresh the browser's cookie."""

    verdict: Verdict
    session: dict[str, Any] = field(default_factory=dict)
    set_cookie: tuple[str, ...] = ()


def _verdict(data: Any) -> Verdict:
    """Needs an app context (the user database)."""
    user = session_user_or_none(data, time.time())
    if user is None:
        return Verdict.SIGN_IN
    return Verdict.ALLOWED if user.has_role(*ROLES) else Verdict.FORBIDDEN


def admit(app: Flask, cookie_header: str) -> Admission:
    """Check a request carrying `cookie_header` (the raw `Cookie:` header). Safe from any
    thread: it builds its own request and app context."""
    if not cookie_header:
        return Admission(Verdict.SIGN_IN)
    ctx = app.test_request_context(STREAM_PATH, headers={"Cookie": cookie_header})
    opened = app.session_interface.open_session(app, ctx.request)
    if opened is None:
        return Admission(Verdict.SIGN_IN)
    with app.app_context():
        verdict = _verdict(opened)
    if verdict is not Verdict.ALLOWED:
        return Admission(verdict)
    touch(opened, time.time())
    carrier = app.response_class()
    app.session_interface.save_session(app, opened, carrier)
    return Admission(verdict, dict(opened), tuple(carrier.headers.getlist("Set-Cookie")))


def still_allowed(app: Flask, session: dict[str, Any]) -> bool:
    """Does the admitted session still hold (same rules as at admission)?"""
    with app.app_context():
        return _verdict(session) is Verdict.ALLOWED


class SessionChecker:
    """`admit` and `still_allowed` on a bounded pool, awaited from the event loop."""

    def __init__(self, app: Flask, executor: Executor) -> None:
        self.app, self.executor = app, executor

    async def admit(self, cookie_header: str) -> Admission:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, admit, self.app, cookie_header)

    async def still_allowed(self, session: dict[str, Any]) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, still_allowed, self.app, session)
