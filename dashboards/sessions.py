"""What a page session must carry to still speak for its user (issue 12, item 6).

A session is a signed cookie (Flask's), so the server cannot delete one it handed out: a
stolen or forgotten cookie would stay good as long as its signature does. So each session
records, when it is made, the user's role and session version (`users.session_version`,
bumped by logout, a password change and a role change: ivr/store/users.py) and the time it
was made (`iat`), and, as it is used, when it was last seen (`seen`). A session is refused
when any of these no longer hold:

- the role and the version are the user's current ones (every earlier session of a user is
  revoked by one UPDATE, whichever process or browser holds it);
- it was made at most `session_max_age` seconds ago (IVR_SESSION_MAX_AGE, 12 h), however
  busy it has been: a cookie kept alive by polling still ends;
- it was seen at most `session_idle` seconds ago (IVR_SESSION_IDLE, 2 h).

Pure: no Flask, no database, no clock (the caller passes `now`, seconds since the epoch), so
the pages (`dashboards.auth.session_user_or_none`) and the wallboard's stream service check
the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from ivr.store.users import User

# `seen` is rewritten at most this often (seconds): idle is measured to the minute, and a page
# polling every two seconds does not change its cookie on every request.
TOUCH_EVERY = 60
# A session stamped this far in the future (seconds) is refused: clocks of web processes
# agree to well within this, and a later `iat` would stretch the absolute lifetime.
CLOCK_SLACK = 300


@dataclass(frozen=True)
class SessionLimits:
    """Seconds: a session ends `idle` after its last use and `max_age` after sign-in."""

    idle: int
    max_age: int


def new_session(user: User, csrf: str, now: float) -> dict[str, Any]:
    """The fields a fresh sign-in stores in the session."""
    stamp = int(now)
    return {"user": user.username, "role": user.role, "ver": user.session_version,
            "iat": stamp, "seen": stamp, "csrf": csrf}


def session_problem(data: Mapping[str, Any], user: User, limits: SessionLimits,
                    now: float) -> str | None:
    """Why the session `data` no longer speaks for `user` (the user it names, as stored
    now), or None when it still does. The reason is for logs, never shown to the client."""
    if data.get("role") != user.role:
        return "role changed"
    if data.get("ver") != user.session_version:
        return "signed out, or password or role changed since"
    made, seen = _stamp(data.get("iat")), _stamp(data.get("seen"))
    if made is None or seen is None or made > now + CLOCK_SLACK:
        return "made before session limits (or forged)"
    if now - made > limits.max_age:
        return "older than the absolute lifetime"
    if now - seen > limits.idle:
        return "idle too long"
    return None


def touch(data: MutableMapping[str, Any], now: float) -> None:
    """Note that the session was used now (at most every TOUCH_EVERY seconds)."""
    seen = _stamp(data.get("seen"))
    if seen is None or now - seen >= TOUCH_EVERY:
        data["seen"] = int(now)


def _stamp(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
