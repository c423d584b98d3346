"""A Lua script for the webhook hot path, called on a connection its thread holds for a moment.

Why: every webhook runs one or two of the call scripts (call_begin, call_commit, call_ended),
and redis-py's general path around one EVALSHA (pool checkout and release with their fork
checks and locks, a poll for stale input, observability hooks, the retry wrapper) cost a third
of the command's client CPU (`ivr bench webhook`; 35 against 24 microseconds measured on one
EVALSHA over the embedded Redis's socket). Here a thread takes a connection from the client's
own pool, sends EVALSHA and reads the reply itself, and keeps the connection for the next
script of the same webhook, so the pool's checks still run once per hold (a Sentinel pool
re-asks for the primary, ivr/store/redis_connect.py) and a forked child never uses its
parent's socket.

A held connection never outlives what it was taken for (issue 12: under the development
server's thread-per-request, connections of dead threads piled up until redis-py's pool said
"Too many connections"):
- the web app hands it back at the end of every request (`end_request`, through
  `Services.end_request`, which Flask's teardown and the webhook lane call), unless `keep`
  (IVR_LEAN_REDIS_KEEP, on unless 0): then the request's thread keeps it for its next
  request as a worker thread does (used for KEEP_S seconds at most, then handed back at its
  next use and taken afresh, with the pool's checks), which spares the pool's checkout and
  release and its poll for stale input on every request (a connection is only kept after
  whole replies were read: any error hands it back);
- a thread that ends, or a store that is dropped, hands it back too: the hold is a small
  object in a `threading.local`, freed with its thread, and `weakref.finalize` releases the
  connection then (the same finalizer `give_back` runs, so it is released exactly once);
- outside a request (worker threads) it goes back after KEEP_S seconds, on the next call;
- at most `max_held` connections are held at once per store (half the pool by default), so
  the commands a webhook sends the regular way always find a connection: a thread holding
  one and waiting for another can never starve the pool.

Anything unusual goes the regular way, `Script.__call__`: a server that lost the script
(NOSCRIPT: it loads it and runs it again), a dropped or timed-out connection (redis-py's
retries, exactly as before), a pool at its hold limit or out of connections, and `enabled=False`
(IVR_LEAN_REDIS=0). The script's own errors are raised unchanged.

While held, the connection's socket is in blocking mode with redis-py's `socket_timeout` set
in the kernel instead (SO_RCVTIMEO/SO_SNDTIMEO; IVR_LEAN_REDIS_BLOCKING, on unless 0). Why:
in Python's timeout mode every send and read polls the socket first, so one round trip
releases and retakes the GIL four times instead of two; under gunicorn's threads that is a
context switch each (docs/performance.md: about 6 % more `POST /voice` per second). A Redis that
stops answering still cannot hang a thread: the kernel ends the wait after the same timeout,
redis-py's parser reports it as a ConnectionError, and the call goes the regular way (with its
retries and timeouts) as any dropped connection does. The socket gets its timeout mode back
before the connection returns to the pool, so redis-py never sees the change. TLS sockets are
left as they are (an SSL read that the kernel cuts short is not a clean error).
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import struct
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

import hiredis
import redis
from redis.commands.core import HashCommands
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

KEEP_S = 1.0  # outside a request: how long a thread keeps its connection before handing it back


class HoldCount:
    """How many connections a store's threads hold now; shared with the finalizers, so it must
    not reference the store (that would keep a dropped store alive). A forked child starts
    from zero with a fresh lock (its parent's could have been taken mid-fork). Re-entrant: a
    finalizer may run inside `take` on the same thread (garbage collection)."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self.now = 0

    def _for_this_process(self) -> None:
        if self._pid != os.getpid():
            self._pid, self._lock, self.now = os.getpid(), threading.RLock(), 0

    def take(self, limit: int) -> bool:
        self._for_this_process()
        with self._lock:
            if self.now >= limit:
                return False
            self.now += 1
            return True

    def drop(self, pid: int) -> None:
        if pid != os.getpid():
            return  # counted in the parent, not here
        with self._lock:
            self.now -= 1


class _Hold:
    """One thread's connection. Freed with the thread (or the store): its finalizer then
    hands the connection back."""

    __slots__ = ("conn", "pid", "since", "release", "__weakref__")

    def __init__(self, conn: Any, pid: int, since: float) -> None:
        self.conn, self.pid, self.since = conn, pid, since
        self.release: weakref.finalize[Any, Any] | None = None


def _hand_back(pool: Any, conn: Any, pid: int, count: HoldCount, sock: Any) -> None:
    """Run once per hold: by `give_back`, or by the garbage collector when the hold's thread
    ended or its store was dropped. A forked child never releases its parent's connection
    (the pool would put it in the child's pool; its socket belongs to the parent). `sock` is
    the socket put in blocking mode when the hold began (None if it was not)."""
    count.drop(pid)
    if os.getpid() == pid:
        if sock is not None:
            timeout_mode(sock, conn.socket_timeout)
        pool.release(conn)


def blocking_mode(conn: Any) -> Any:
    """Put `conn`'s socket in blocking mode with its read and write timeout in the kernel (see
    the module docstring); return the socket, or None when it is left as it was (no socket, a
    TLS socket, no timeout: then it already blocks, or an option the platform refuses)."""
    sock, timeout = getattr(conn, "_sock", None), getattr(conn, "socket_timeout", None)
    if sock is None or timeout is None or timeout <= 0 or isinstance(sock, ssl.SSLSocket):
        return None
    seconds = int(timeout)
    limit = struct.pack("ll", seconds, int((timeout - seconds) * 1_000_000))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        sock.settimeout(None)
    except OSError:
        timeout_mode(sock, timeout)
        return None
    return sock


def timeout_mode(sock: Any, timeout: float | None) -> None:
    """Undo `blocking_mode`: Python's timeout mode again and no kernel timeouts, the socket as
    redis-py made it. A socket that was closed meanwhile needs nothing."""
    try:
        sock.settimeout(timeout)
        cleared = struct.pack("ll", 0, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, cleared)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, cleared)
    except OSError:
        pass


class HeldConnections:
    """At most one connection per thread (and process) from `client`'s pool, shared by the
    scripts of one store; see the module docstring for when it goes back."""

    def __init__(self, client: redis.Redis, *, enabled: bool = True,
                 max_held: int | None = None, keep: bool = False,
                 blocking: bool = True) -> None:
        self.client = client
        self.enabled = enabled
        self.keep = keep
        self.blocking = blocking
        pool_size = int(getattr(client.connection_pool, "max_connections", 0) or 100)
        self.max_held = max_held if max_held is not None else max(1, pool_size // 2)
        self.count = HoldCount()
        self._local = threading.local()

    def get(self) -> Any:
        """This thread's connection, or None: then the caller goes the regular way."""
        if not self.enabled:
            return None
        hold = getattr(self._local, "hold", None)
        now = time.monotonic()
        if hold is not None:
            if hold.pid == os.getpid() and now - hold.since < KEEP_S:
                return hold.conn
            self.give_back()
        if not self.count.take(self.max_held):
            return None
        pool = self.client.connection_pool
        try:
            conn = pool.get_connection()
        except (RedisConnectionError, RedisTimeoutError, OSError):
            self.count.drop(os.getpid())
            return None  # the regular path reports it, with its retries
        hold = _Hold(conn, os.getpid(), now)
        sock = blocking_mode(conn) if self.blocking else None
        hold.release = weakref.finalize(hold, _hand_back, pool, conn, hold.pid, self.count, sock)
        hold.release.atexit = False
        self._local.hold = hold
        return conn

    def end_request(self) -> None:
        """A web request ended: hand the connection back, unless `keep` (see the module
        docstring); then it goes back after KEEP_S, or with its thread."""
        if not self.keep:
            self.give_back()

    def give_back(self) -> None:
        """Hand this thread's connection back to the pool now (a no-op when it holds none)."""
        hold = getattr(self._local, "hold", None)
        self._local.hold = None
        if hold is not None and hold.release is not None:
            hold.release()


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
            conn.send_packed_command(packed(conn, ("EVALSHA", self.sha, len(keys), *keys, *args)))
            return conn.read_response()
        except TypeError:  # an argument hiredis cannot pack: redis-py's DataError, as before
            self.held.give_back()
            return self.script(keys=keys, args=args)
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

    def with_reads(self, keys: Sequence[Any], args: Sequence[Any],
                   reads: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Any] | None:
        """The script and then `reads` (commands as recorded by `CommandBatch`) in one round
        trip on the held connection, as a non-transactional pipeline would send them: the
        replies in order, each command's error in its place (raise_on_error=False), read
        replies parsed by the client's response callbacks. None when no connection is held
        or it failed: then the caller sends the same through redis-py's pipeline (retries)."""
        conn = self.held.get()
        if conn is None:
            return None
        client = self.held.client
        try:
            conn.send_packed_command(conn.pack_commands(
                [("EVALSHA", self.sha, len(keys), *keys, *args), *(cmd for cmd, _ in reads)]))
            replies = [_reply(conn.read_response)]
            for cmd, options in reads:  # parse_response pops options: a copy each
                replies.append(_reply(functools.partial(client.parse_response, conn, cmd[0],
                                                        **options)))
        except (RedisConnectionError, RedisTimeoutError, OSError):
            conn.disconnect()
            self.held.give_back()
            return None
        except BaseException:
            self.held.give_back()
            raise
        return replies


def packed(conn: Any, command: tuple[Any, ...]) -> Any:
    """The bytes `conn.send_command(*command)` sends, without its per-argument pass: redis-py's
    hiredis packer splits a first argument with spaces and copies bytearray and memoryview
    arguments before it calls `hiredis.pack_command`, and the call scripts' commands have
    neither (names, str, bytes and numbers; tests/store/test_lean_packing.py compares the
    bytes). Another packer (no hiredis) packs as redis-py does."""
    packer = conn._command_packer
    if type(packer) is HiredisRespSerializer:
        return [hiredis.pack_command(command)]
    return packer.pack(*command)


def _reply(read: Any) -> Any:
    """One pipelined reply, or its error reply as the value (the rest are still read)."""
    try:
        return read()
    except ResponseError as exc:
        return exc


class CommandBatch(HashCommands):
    """Records the commands `also=` reads queue (CallStateStore.step), in place of a
    pipeline, so `LeanScript.with_reads` can send them after the script."""

    _event_dispatcher: Any = None  # part of redis-py's command protocol; recording needs none

    def __init__(self) -> None:
        self.commands: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def execute_command(self, *args: Any, **options: Any) -> CommandBatch:
        self.commands.append((args, options))
        return self
