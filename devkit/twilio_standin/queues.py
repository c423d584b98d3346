"""Twilio queues as the simulator sees them: named, with a QU sid, members in arrival order.

Shared by every leg of one stand-in (so QueuePosition and CurrentQueueSize are true across
calls); a lone CallLeg gets its own. Thread-safe: legs run in their own threads.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_SIZE = 1000  # WEBHOOKS.md 3.3 (the current docs; older copies say 100)


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class Member:
    call_sid: str
    leg: Any
    entered: float


@dataclass
class Queue:
    name: str
    sid: str
    max_size: int = DEFAULT_MAX_SIZE
    members: list[Member] = field(default_factory=list)


class QueueFullError(Exception):
    pass


class Queues:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, Queue] = {}

    def get_or_create(self, name: str) -> Queue:
        with self._lock:
            return self._ensure(name)

    def _ensure(self, name: str) -> Queue:
        if name not in self._by_name:
            self._by_name[name] = Queue(name, new_sid("QU"))
        return self._by_name[name]

    def join(self, name: str, call_sid: str, leg: Any, now: float,
             max_size: int | None = None) -> Queue:
        with self._lock:
            queue = self._ensure(name)
            if max_size is not None:
                queue.max_size = max_size
            if len(queue.members) >= queue.max_size:
                raise QueueFullError(name)
            queue.members.append(Member(call_sid, leg, now))
            return queue

    def leave(self, name: str, call_sid: str) -> None:
        with self._lock:
            queue = self._by_name.get(name)
            if queue:
                queue.members = [m for m in queue.members if m.call_sid != call_sid]

    def stats(self, name: str, call_sid: str, now: float) -> dict[str, str]:
        """The waitUrl parameters of WEBHOOKS.md 3.3 for this member."""
        with self._lock:
            queue = self._ensure(name)
            times = [now - m.entered for m in queue.members]
            position = next((i + 1 for i, m in enumerate(queue.members)
                             if m.call_sid == call_sid), 0)
            mine = next((now - m.entered for m in queue.members if m.call_sid == call_sid), 0)
            return {
                "QueuePosition": str(position),
                "QueueSid": queue.sid,
                "QueueTime": str(int(mine)),
                "AvgQueueTime": str(int(sum(times) / len(times))) if times else "0",
                "CurrentQueueSize": str(len(queue.members)),
                "MaxQueueSize": str(queue.max_size),
            }

    def by_sid(self, sid: str) -> Queue | None:
        with self._lock:
            return next((q for q in self._by_name.values() if q.sid == sid), None)

    def all(self) -> list[Queue]:
        with self._lock:
            return list(self._by_name.values())

    def front(self, name: str) -> Member | None:
        with self._lock:
            queue = self._by_name.get(name)
            return queue.members[0] if queue and queue.members else None
