"""Who is asking for a stream: the page's own session cookie, checked the pages' way.

The browser sends the Flask session cookie with the stream request (same site, or
`withCredentials` across ports). It is opened with the Flask app's own session interface (so
the signature, the secret key and the cookie's lifetime are checked exactly as for a page),
and the opened session goes through `dashboards.auth.session_user_or_none`, the one function
`require_role` uses too: whatever that check learns (a deleted user, a changed role, and
whatever the auth work adds) applies to streams without a second copy here.

The check reads the user database, so it runs on a small named thread pool, never on the
event loop; `Verdict` tells the server what to answer.
"""

from __future__ import annotations

import asyncio
import enum
from concurrent.futures import Executor

from flask import Flask

from dashboards.auth import session_user_or_none
from dashboards.wallboard import STREAM_PATH

ROLES = ("supervisor",)  # admins too: User.has_role lets an admin do everything


class Verdict(enum.Enum):
    ALLOWED = 200
    SIGN_IN = 401  # no session, a forged or expired cookie, a user deleted or changed
    FORBIDDEN = 403  # signed in, but not a supervisor (nor an admin)


def check_cookie(app: Flask, cookie_header: str) -> Verdict:
    """The verdict for a request carrying `cookie_header` (the raw `Cookie:` header). Safe to
    call from any thread: it builds its own request and app context."""
    if not cookie_header:
        return Verdict.SIGN_IN
    ctx = app.test_request_context(STREAM_PATH, headers={"Cookie": cookie_header})
    opened = app.session_interface.open_session(app, ctx.request)
    if opened is None:
        return Verdict.SIGN_IN
    with app.app_context():
        user = session_user_or_none(opened)
    if user is None:
        return Verdict.SIGN_IN
    return Verdict.ALLOWED if user.has_role(*ROLES) else Verdict.FORBIDDEN


class SessionChecker:
    """`check_cookie` on a bounded pool, awaited from the event loop."""

    def __init__(self, app: Flask, executor: Executor) -> None:
        self.app, self.executor = app, executor

    async def verdict(self, cookie_header: str) -> Verdict:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, check_cookie, self.app, cookie_header)
