"""The stand-in's HTTP transport against a server that closes idle kept-alive connections.

`KeepAliveServer` answers HTTP/1.1 requests and keeps each connection open for KEEPALIVE
seconds after an answer, as gunicorn does (its default keep-alive is 2 s). Like gunicorn's
gthread worker, whose loop looks for new requests and closes expired connections one after the
other, it does not see a request that arrives just before the timeout (the last BLIND seconds)
and closes the connection under it: the client gets a reset. `ivr bench soak` met this on 1
webhook in ~1,400 (/voice/queue/wait after the hold loop's pause, ConnectionResetError after
2 ms).
"""

from __future__ import annotations

import select
import socket
import threading
import time

import pytest

from devkit.twilio_standin.transport import HttpTransport

KEEPALIVE = 2.0  # gunicorn's default keep-alive, seconds
BLIND = 0.5  # the end of the keep-alive the server's loop does not look at


class KeepAliveServer:
    """Counts requests per connection (the list index is the connection's number)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests_per_connection: list[int] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            self.requests_per_connection.append(0)
            number = len(self.requests_per_connection) - 1
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            while self._read_request(conn):
                self.requests_per_connection[number] += 1
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: 2\r\n\r\nok")
                readable, _, _ = select.select([conn], [], [], KEEPALIVE - BLIND)
                if not readable:
                    time.sleep(BLIND)  # a request arriving now stays unread: reset on close
                    return

    @staticmethod
    def _read_request(conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            body += chunk
        return True

    def close(self) -> None:
        self._stop.set()
        time.sleep(0.2)  # the accept loop notices within its 0.1 s timeout
        self.sock.close()


@pytest.fixture
def server():
    srv = KeepAliveServer()
    yield srv
    srv.close()


def test_a_connection_near_the_servers_keepalive_timeout_is_not_reused(server):
    transport = HttpTransport()
    url = f"http://127.0.0.1:{server.port}/voice/queue/wait"
    assert transport.request("POST", url, [("CallSid", "CA1")]).status == 200
    time.sleep(KEEPALIVE - BLIND / 2)  # the caller listened: the server is about to close
    assert transport.request("POST", url, [("CallSid", "CA1")]).status == 200
    assert server.requests_per_connection == [1, 1]


def test_a_recently_used_connection_is_kept_alive(server):
    transport = HttpTransport()
    url = f"http://127.0.0.1:{server.port}/voice"
    for _ in range(3):
        assert transport.request("POST", url, [("CallSid", "CA1")]).status == 200
        time.sleep(0.1)
    assert server.requests_per_connection == [3]
