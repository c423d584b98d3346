"""Operator switches kept in Redis: emergency closure, `always_open`, storm mode, and any flag a
flow's branch reads as `flags.NAME`.

Read at the start of every call (CallService passes them to the interpreter) and by the queue
engine's opening-hours check, so flipping one takes effect on the next call in every web
process and worker at once. Values are short strings ("on"/"off"); ivr/domain/hours.py decides
what counts as set. Must not import Flask.
"""

from __future__ import annotations

import re

import redis

from ivr.domain.errors import ConfigError
from ivr.store import keys
from ivr.store.scripts import text

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def get_flags(conn: redis.Redis) -> dict[str, str]:
    raw = conn.hgetall(keys.operator_flags())
    return {text(k): text(v) for k, v in raw.items()}


def set_flag(conn: redis.Redis, name: str, value: str | None) -> None:
    """Set a flag (None clears it). Names are lower_snake_case, as flows refer to them."""
    if not NAME.match(name):
        raise ConfigError(f"flag name {name!r}: use lower_snake_case letters, digits and _")
    if value is None or value == "":
        conn.hdel(keys.operator_flags(), name)
    else:
        conn.hset(keys.operator_flags(), name, str(value)[:40])
