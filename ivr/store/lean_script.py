"""A Lua script for the webhook hot path, called on a connection its thread keeps.

Why: every webhook runs one or two of the call scripts (call_begin, call_commit, call_ended),
and redis-py's general path around one EVALSHA (pool checkout and release with their fork
checks and locks, a poll for stale input, observability hooks, the retry wrapper) cost a third
of the command's client CPU (`ivr bench webhook`; 35 against 24 microseconds measured on one
EVALSHA over the embedded Redis's socket). Here a thread takes a connection from the client's
own pool, sends EVALSHA and reads the reply itself, and gives the connection back after a
second, so the pool's checks still run (a Sentinel pool re-asks for the primary,
ivr/store/redis_connect.py) and a forked child never uses its parent's socket.

Anything unusual goes the regular way, `Script.__call__`: a server that lost the script
(NOSCRIPT: it loads it and runs it again), a dropped or timed-out connection (redis-py's
retries, exactly as before), and the script's own errors are raised unchanged.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

KEEP_S = 1.0  # how long a thread keeps its connection before handing it back to the pool


class HeldConnections:
    """One connection per thread (and process) from `client`'s pool, shared by the scripts
    of one store, handed back and taken again after KEEP_S seconds."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._local = threading.local()

    def get(self) -> Any:
        held = getattr(self._local, "held", None)
        now = time.monotonic()
        if held is not None:
            conn, pid, since = held
            if pid == os.getpid() and now - since < KEEP_S:
                return conn
            self.give_back()
        try:
            conn = self.client.connection_pool.get_connection()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return None  # the regular path reports it, with its retries
        self._local.held = (conn, os.getpid(), now)
        return conn

    def give_back(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[1] == os.getpid():
            self.client.connection_pool.release(held[0])


class LeanScript:
    def __init__(self, held: HeldConnections, text: str) -> None:
        self.held = held
        self.script = held.client.register_script(text)
        self.sha = self.script.sha

    def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        conn = self.held.get()
        if conn is None:
            return self.script(keys=keys, args=args)
        try:
            conn.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
            return conn.read_response()
        except NoScriptError:
            self.held.give_back()
            return self.script(keys=keys, args=args)  # loads the script, runs it again
        except (RedisConnectionError, RedisTimeoutError, OSError):
            conn.disconnect()
            self.held.give_back()
            return self.script(keys=keys, args=args)  # redis-py's own retries, as before
        except BaseException:
            self.held.give_back()  # a script's error leaves the connection fine; an
            raise                  # interrupt mid-reply is caught by the pool's next check
