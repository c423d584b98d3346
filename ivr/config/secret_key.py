"""The session-signing key's policy: what makes SECRET_KEY unfit to sign the pages' cookies.

Page sessions are signed cookies: whoever knows SECRET_KEY can sign in as anyone. So a key
must be set, must not be one that was ever published as an example or a default (this
project's own until issue 12), and must be at least 32 bytes long. `Config.check_secret_key`
(settings.py) and the processes' start-up check (startup.py) apply it. Pure: no environment.
"""

from __future__ import annotations

KNOWN_DEFAULT_KEYS = frozenset({"dev-secret-change-me", "change-me", "changeme", "secret",
                                "secret-key", "dev", "development", "..."})
MIN_SECRET_KEY_BYTES = 32
SECRET_KEY_HINT = ("set SECRET_KEY to a random value of at least 32 bytes, e.g. the output of "
                   "python -c 'import secrets; print(secrets.token_urlsafe(48))' "
                   "(or IVR_DEV_MODE=1 on a development machine)")


def secret_key_problem(key: str | None) -> str | None:
    """What is wrong with `key` as the session-signing key, or None when it will do."""
    if not key:
        return "SECRET_KEY is not set"
    if key.strip().lower() in KNOWN_DEFAULT_KEYS:
        return "SECRET_KEY is a published default"
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        return f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes"
    return None
