"""A real Redis Sentinel deployment on 127.0.0.1 for tests: a primary, a replica and one
sentinel (quorum 1), each its own redis-server process on a free port, under a temporary
folder. `failover()` asks the sentinel for a planned failover and waits until the replica
has become the primary and our URL's clients can write to it.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from devkit.bench.webhook import free_port
from ivr.store.embedded_redis import redis_server_binary

SERVICE = "ivr"


@dataclass
class SentinelSet:
    directory: Path
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.ports['sentinel']}/{SERVICE}/0"

    def start(self) -> SentinelSet:
        self.ports = {"a": free_port(), "b": free_port(), "sentinel": free_port()}
        self._server("a")
        self._wait(self.ports["a"])
        self._server("b", "--replicaof", "127.0.0.1", str(self.ports["a"]))
        self._wait(self.ports["b"])
        conf = self.directory / "sentinel.conf"
        conf.write_text("\n".join([
            f"port {self.ports['sentinel']}", "bind 127.0.0.1", f"dir {self.directory}",
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.ports['a']} 1",
            f"sentinel down-after-milliseconds {SERVICE} 1000",
            f"sentinel failover-timeout {SERVICE} 3000", ""]))
        self.processes.append(subprocess.Popen(
            [redis_server_binary(), str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True))
        self._wait(self.ports["sentinel"])
        self._until(lambda: self.replica_in_sync(), "the replica to sync and be seen")
        return self

    def primary_port(self) -> int:
        host, port = self._sentinel().sentinel_get_master_addr_by_name(SERVICE)
        return int(port)

    def replica_in_sync(self) -> bool:
        info = redis.Redis(port=self.ports["b"]).info("replication")
        if info.get("master_link_status") != "up":
            return False
        replicas = self._sentinel().sentinel_slaves(SERVICE)
        return any(int(r["port"]) == self.ports["b"] for r in replicas)

    def failover(self, timeout: float = 30.0) -> int:
        """A planned failover to the replica; returns the new primary's port."""
        before = self.primary_port()
        self._sentinel().execute_command("SENTINEL", "FAILOVER", SERVICE)
        self._until(lambda: self.primary_port() != before, "the sentinel to switch", timeout)
        after = self.primary_port()
        self._until(lambda: redis.Redis(port=after).info("replication")["role"] == "master",
                    "the new primary to take writes", timeout)
        # Until the old primary has been turned into a replica it still takes writes that the
        # resync then drops (Redis replicates asynchronously): the failover is over when it
        # follows the new primary.
        self._until(lambda: redis.Redis(port=before).info("replication").get(
            "master_link_status") == "up", "the old primary to follow the new one", timeout)
        return after

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _server(self, name: str, *extra: str) -> None:
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        self.processes.append(subprocess.Popen(
            [redis_server_binary(), "--port", str(self.ports[name]), "--bind", "127.0.0.1",
             "--dir", str(folder), "--save", "", "--appendonly", "yes", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))

    def _sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.ports["sentinel"], decode_responses=True, socket_timeout=2)

    def _wait(self, port: int) -> None:
        def answers() -> bool:
            try:
                return bool(redis.Redis(port=port, socket_timeout=0.5).ping())
            except redis.RedisError:
                return False
        self._until(answers, f"redis-server on port {port}")

    @staticmethod
    def _until(done, what: str, timeout: float = 20.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if done():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")
