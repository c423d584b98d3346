"""What a running stack holds, read from outside (`ivr bench soak`): Redis clients per
process (CLIENT LIST, by the `ivr-<role>-<pid>` names ivr/store/redis_connect.py gives them),
database connections per process (SQLite: open handles of the database file; PostgreSQL: TCP
connections to its port, and pg_stat_activity's count for the database), and the memory
(RSS) and threads of every process (psutil).

Nothing here changes the stack; a process that ended between two looks is skipped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psutil

NAME = re.compile(r"^ivr-(?P<role>[\w-]+?)-(?P<pid>\d+)$")


@dataclass(frozen=True)
class ProcessLook:
    role: str  # web, web-worker, worker, worker-child, redis, soak
    pid: int
    rss_mb: float
    threads: int
    db: int  # database connections (SQLite handles or PostgreSQL TCP connections)
    redis: int  # Redis connections named for this pid


@dataclass
class Look:
    """One look at the stack."""

    at: float
    redis_clients: int  # INFO clients: connected_clients (every client of the server)
    by_name: dict[str, int] = field(default_factory=dict)  # CLIENT LIST name -> connections
    processes: list[ProcessLook] = field(default_factory=list)
    pg_connections: int | None = None  # pg_stat_activity for the database, when PostgreSQL

    def of(self, role: str) -> list[ProcessLook]:
        return [p for p in self.processes if p.role == role]


@dataclass
class Probe:
    redis: Any  # a client of the stack's Redis
    roots: dict[str, int]  # role -> pid of a process of the stack (its children follow)
    alone: frozenset[str] = frozenset({"soak"})  # roles whose children are looked at apart
    sqlite_file: str | None = None
    pg_engine: Any = None  # an SQLAlchemy engine on the stack's PostgreSQL database
    pg_port: int = 5432

    def look(self, at: float) -> Look:
        names = Counter(c.get("name") or "(unnamed)" for c in self.redis.client_list())
        info = self.redis.info("clients")
        per_pid: Counter[int] = Counter()
        for name, count in names.items():
            found = NAME.match(name)
            if found:
                per_pid[int(found["pid"])] += count
        look = Look(at, int(info.get("connected_clients", 0)), dict(names))
        for role, pid in self.roots.items():
            look.processes.extend(self._processes(role, pid, per_pid))
        look.pg_connections = self._pg_count()
        return look

    def _processes(self, role: str, pid: int, per_pid: Counter[int]) -> list[ProcessLook]:
        try:
            root = psutil.Process(pid)
            children = [] if role in self.alone else root.children(True)
            family = [(role, root)] + [(f"{role}-child", c) for c in children]
        except psutil.NoSuchProcess:
            return []
        found = []
        for name, proc in family:
            try:
                with proc.oneshot():
                    found.append(ProcessLook(name, proc.pid, proc.memory_info().rss / 2**20,
                                             proc.num_threads(), self._db_of(proc),
                                             per_pid.get(proc.pid, 0)))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def _db_of(self, proc: psutil.Process) -> int:
        if self.sqlite_file is not None:
            return sum(1 for f in proc.open_files() if f.path == self.sqlite_file)
        return sum(1 for c in proc.net_connections("tcp")
                   if c.raddr and c.raddr.port == self.pg_port)

    def _pg_count(self) -> int | None:
        if self.pg_engine is None:
            return None
        from sqlalchemy import text

        with self.pg_engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalar_one())


def describe(look: Look) -> list[str]:
    """Report lines: Redis clients by name, database connections, processes."""
    named = ", ".join(f"{n} {c}" for n, c in sorted(look.by_name.items()))
    lines = [f"  redis: {look.redis_clients} connected clients ({named})"]
    if look.pg_connections is not None:
        lines.append(f"  postgresql: {look.pg_connections} connections to the database "
                     "(pg_stat_activity, every client)")
    for p in look.processes:
        lines.append(f"  {p.role:<14} pid {p.pid:<7} rss {p.rss_mb:7.1f} MB  threads "
                     f"{p.threads:>3}  redis {p.redis:>3}  db {p.db:>2}")
    return lines
