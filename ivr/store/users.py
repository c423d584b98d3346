"""Users of the pages (table `users`, migrations 0002 and 0006): add, change, find, check a
password, revoke sessions.

Passwords are stored as werkzeug's salted scrypt/pbkdf2 hashes, never in clear. Roles:
admin (everything), supervisor (wallboard, worklists), agent (agent console). Each user has
a session version: every session records the version it was made under, and bumping it
(logout, a new password, a new role) revokes all the user's sessions at once
(dashboards/sessions.py). Used by the sign-in blueprint (dashboards/auth.py) and by `ivr
user`; in the store layer because it is the users table's SQL (issue 13). Must not import
Flask request globals.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.domain.errors import ConfigError

ROLES = ("admin", "supervisor", "agent")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class User:
    username: str
    role: str
    session_version: int = 0

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; otherwise the user's role must be among `roles`."""
        return self.role == "admin" or self.role in roles


def check_new(username: str, role: str, password: str) -> None:
    if not NAME.match(username):
        raise ConfigError(f"user name {username!r}: use 2-64 lower-case letters, digits, . _ -")
    if role not in ROLES:
        raise ConfigError(f"role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"password: use at least {MIN_PASSWORD} characters")


def save_user(engine: Engine, username: str, role: str, password: str) -> bool:
    """Add the user, or change an existing one's role and password. True when added."""
    check_new(username, role, password)
    hashed = generate_password_hash(password)
    with engine.begin() as conn:
        found = conn.execute(text("SELECT id FROM users WHERE username = :u"),
                             {"u": username}).first()
        if found:  # a new password (and maybe role): the user's old sessions end
            conn.execute(text("UPDATE users SET role = :r, password_hash = :h, "
                              "session_version = session_version + 1 WHERE id = :i"),
                         {"r": role, "h": hashed, "i": found[0]})
            return False
        conn.execute(text("INSERT INTO users (username, password_hash, role, created_at) "
                          "VALUES (:u, :h, :r, :t)"),
                     {"u": username, "h": hashed, "r": role, "t": datetime.now(UTC)})
        return True


def revoke_sessions(engine: Engine, username: str) -> None:
    """End every session `username` has, in every browser (logout; dashboards/sessions.py)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET session_version = session_version + 1 "
                          "WHERE username = :u"), {"u": username})


def find_user(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT username, role, session_version FROM users "
                                "WHERE username = :u"), {"u": username}).first()
    return User(row[0], row[1], row[2]) if row else None


@functools.cache
def dummy_hash() -> str:
    """A hash of nothing anyone can type, made once per process with the same method as real
    ones: checking a password against it costs what checking a real user's does, so an
    unknown name costs one hash, as a known one does (issue 12: it cost two, a hash made and
    then checked, which both told names apart by time and doubled an attacker's leverage)."""
    return generate_password_hash(secrets.token_urlsafe(32))


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user when `password` is theirs, else None; exactly one password hash either way."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT username, role, session_version, password_hash "
                                "FROM users WHERE username = :u"), {"u": username}).first()
    if row is None:
        check_password_hash(dummy_hash(), password)  # the same cost as a known name
        return None
    return User(row[0], row[1], row[2]) if check_password_hash(row[3], password) else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, role, session_version FROM users "
                                 "ORDER BY username")).all()
    return [User(r[0], r[1], r[2]) for r in rows]
