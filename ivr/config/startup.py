"""The start-up check of every long-running process (`ivr serve`, `ivr worker`, `ivr streams`
and gunicorn's master): the settings parse, and the pages' session key will do.

Kept apart from settings.py, which only declares and reads the settings: this is the one
place that turns a bad setting into the process refusing to start (SystemExit, one line, no
traceback) and that hands a development key to the child processes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import MutableMapping

from ivr.config.secret_key import SECRET_KEY_HINT, secret_key_problem
from ivr.config.settings import Config, from_env
from ivr.domain.errors import ConfigError


def require_secret_key(environ: MutableMapping[str, str] | None = None) -> Config:
    """Every variable parses (a bad one is ONE line naming it, SystemExit, no traceback), a
    development key is shared with the processes started from here (gunicorn forks its
    workers after reading its config, `ivr serve` execs gunicorn; nothing is written to
    disk), and a missing or weak SECRET_KEY is refused outside development mode. `environ`
    (default: this process's environment) is written only to hand the development key to
    child processes. Returns the settings, checked."""
    environ = os.environ if environ is None else environ
    try:
        config = from_env(environ)
    except ConfigError as exc:
        raise SystemExit(f"ivr: refusing to start: {exc}") from None
    if config.dev_mode and not config.secret_key:
        environ["SECRET_KEY"] = secrets.token_urlsafe(48)
        config = config.with_overrides(secret_key=environ["SECRET_KEY"])
    problem = secret_key_problem(config.secret_key)
    if problem and not config.dev_mode:
        raise SystemExit(f"ivr: refusing to start: {problem}; {SECRET_KEY_HINT}")
    return config
