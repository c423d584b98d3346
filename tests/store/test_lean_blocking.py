"""The held connection's socket in blocking mode (ivr/store/lean_script.py,
IVR_LEAN_REDIS_BLOCKING): the kernel holds redis-py's timeout while a thread holds the
connection, the pool gets the socket back exactly as redis-py made it, and a Redis that stops
answering still cannot hang a webhook's thread."""

from __future__ import annotations

import select
import socket
import ssl
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from ivr.store import redis_connect
from ivr.store.lean_script import HeldConnections, LeanScript, blocking_mode

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


def kernel_timeout(sock: socket.socket, option: int) -> float:
    seconds, micros = struct.unpack("ll", sock.getsockopt(socket.SOL_SOCKET, option, 16))
    return seconds + micros / 1_000_000


class MutableProxy:
    """A TCP proxy in front of the test's Redis that can stop passing Redis's replies on, as a
    Redis that hangs (or a network that drops everything) looks to its clients."""

    def __init__(self, redis_url: str) -> None:
        self.target = urlsplit(redis_url)
        self.silent = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closing = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _upstream(self) -> socket.socket:
        if self.target.scheme == "unix":
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target.path)
            return upstream
        return socket.create_connection((self.target.hostname, self.target.port or 6379))

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = self._upstream()
            self.sockets += [client, upstream]
            threading.Thread(target=self._pass, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pass, args=(upstream, client, True), daemon=True).start()

    def _pass(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        while not self.closing.is_set():
            ready, _, _ = select.select([source], [], [], 0.05)
            if not ready:
                continue
            try:
                data = source.recv(65536)
                if not data:
                    return
                if not (replies and self.silent.is_set()):
                    sink.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.closing.set()
        for one in [self.listener, *self.sockets]:
            try:
                one.close()
            except OSError:
                pass


@pytest.fixture
def proxy(redis_url: str, redis) -> Any:  # noqa: ARG001 (a fresh, flushed database)
    one = MutableProxy(redis_url)
    yield one
    one.close()


def test_held_it_blocks_with_the_timeout_in_the_kernel_and_goes_back_as_it_came(
        redis_url: str, redis):  # noqa: ARG001
    client = redis_connect.connect(redis_url, max_connections=4, socket_timeout=2.5)
    held = HeldConnections(client)
    script = LeanScript(held, INCR)
    assert script(["n"], [1]) == 1
    assert script(["n"], [1]) == 2
    sock = held.get()._sock
    assert sock.gettimeout() is None  # no poll before each send and read
    assert kernel_timeout(sock, socket.SO_RCVTIMEO) == 2.5
    assert kernel_timeout(sock, socket.SO_SNDTIMEO) == 2.5
    held.give_back()
    assert sock.gettimeout() == 2.5  # what redis-py set
    assert kernel_timeout(sock, socket.SO_RCVTIMEO) == 0
    assert kernel_timeout(sock, socket.SO_SNDTIMEO) == 0
    assert client.incr("n") == 3  # the pool's own path on the same socket


def test_switched_off_the_held_socket_keeps_pythons_timeout_mode(redis_url: str, redis):  # noqa: ARG001
    client = redis_connect.connect(redis_url, max_connections=4, socket_timeout=2.5)
    held = HeldConnections(client, blocking=False)  # IVR_LEAN_REDIS_BLOCKING=0
    assert LeanScript(held, INCR)(["n"], [1]) == 1
    assert held.get()._sock.gettimeout() == 2.5
    held.give_back()


def test_a_redis_that_stops_answering_cannot_hang_the_thread(proxy: MutableProxy, redis_url: str):
    """Blocking mode without the kernel's timeout would wait for ever here: the proxy keeps the
    connection open and passes nothing back."""
    db = redis_lib.connection.parse_url(redis_url).get("db", 0)
    client = redis_lib.Redis(connection_pool=redis_lib.BlockingConnectionPool.from_url(
        proxy.url(db),
        max_connections=4, timeout=1, socket_timeout=0.4, retry=Retry(NoBackoff(), 1)),
        retry=Retry(NoBackoff(), 1))
    held = HeldConnections(client)
    script = LeanScript(held, INCR)
    thread = ThreadPoolExecutor(1)  # one webhook thread, holding one connection throughout

    def webhook() -> Any:
        try:
            return script(["n"], [1])
        except (redis_lib.TimeoutError, redis_lib.ConnectionError) as exc:
            return exc

    assert thread.submit(webhook).result(5) == 1
    assert thread.submit(webhook).result(5) == 2
    assert thread.submit(lambda: held.get()._sock.gettimeout()).result(5) is None  # blocking
    proxy.silent.set()
    started = time.monotonic()
    answer = thread.submit(webhook)
    try:
        outcome = answer.result(15)
    except FutureTimeout:
        proxy.close()  # lets the thread end
        pytest.fail("a silent Redis held the webhook's thread")
    took = time.monotonic() - started
    proxy.silent.clear()
    assert isinstance(outcome, redis_lib.TimeoutError | redis_lib.ConnectionError)
    assert took < 10
    assert held.count.now == 0  # the broken connection went back (disconnected)
    assert thread.submit(webhook).result(5) in (3, 4)  # Redis answers again: so does the thread
    thread.submit(held.give_back).result(5)
    thread.shutdown()


def test_what_it_leaves_alone():
    """No socket, no timeout (then it already blocks, for ever, as redis-py was told) and TLS
    (an SSL read cut short by the kernel is not a clean error)."""
    assert blocking_mode(SimpleNamespace(_sock=None, socket_timeout=5)) is None
    plain = socket.socket()
    plain.settimeout(None)
    assert blocking_mode(SimpleNamespace(_sock=plain, socket_timeout=None)) is None
    plain.close()
    raw = socket.socket()
    raw.settimeout(5)
    tls = ssl.create_default_context().wrap_socket(raw, do_handshake_on_connect=False,
                                                   server_hostname="redis.example")
    assert blocking_mode(SimpleNamespace(_sock=tls, socket_timeout=5)) is None
    assert tls.gettimeout() == 5
    tls.close()
