"""The queue engine's Lua scripts, registered once per connection (as rq/scripts.py does).

Each `.lua` file in `scripts/` starts with its KEYS/ARGV header. redis-py's `Script` sends
EVALSHA and reloads the body on NOSCRIPT, so a restarted Redis needs nothing from us.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from redis.commands.core import Script

SCRIPT_DIR = Path(__file__).with_name("scripts")
NAMES = ("join", "reserve", "release", "connect", "finish", "leave", "presence", "callback",
         "park", "promote", "ring_missed", "device",
         "wrap_end")


@dataclass(frozen=True)
class QueueScripts:
    join: Script
    reserve: Script
    release: Script
    connect: Script
    finish: Script
    leave: Script
    presence: Script
    callback: Script
    park: Script
    promote: Script
    ring_missed: Script
    device: Script
    wrap_end: Script


def load_scripts(conn: redis.Redis) -> QueueScripts:
    """Register every script on `conn`; call once per connection and keep the result."""
    loaded: dict[str, Any] = {
        name: conn.register_script((SCRIPT_DIR / f"{name}.lua").read_text()) for name in NAMES
    }
    return QueueScripts(**loaded)


def text(value: Any) -> str:
    """A Redis reply as str (replies are bytes unless decode_responses is set)."""
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
