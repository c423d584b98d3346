"""Shared builders for the queue-engine tests (imported by tests/store and tests/worker)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.config.queues import parse_queues
from ivr.store.redis_queue import QueueService

NOW = 1_700_000_000.0

CONFIG = {
    "queues": {
        "support": {"skill": "support", "max_size": 5, "wrap_up_seconds": 10,
                    "relax": [{"after": 0, "min_level": 4}, {"after": 30, "min_level": 2},
                              {"after": 90, "min_level": 1}],
                    "callback": {"retries": 1, "retry_delay": 60}},
        "sales": {"skill": "sales", "overflow": {"after": 60, "action": "queue",
                                                 "target": "support"}},
        "billing": {"skill": "billing", "overflow": {"after": 30, "action": "voicemail"}},
        "tech": {"skill": "tech", "overflow": {"after": 30, "action": "widen",
                                               "skills": ["support"]}},
    },
    "agents": {
        "alice": {"address": "client:alice", "skills": {"support": 5, "billing": 3}},
        "bob": {"address": "+14155550190", "skills": {"support": 2, "sales": 4}},
        "carol": {"address": "client:carol", "skills": {"sales": 5}},
        "dan": {"address": "client:dan", "skills": {"support": 4, "tech": 1}},
    },
}


class RecordingTrigger:
    def __init__(self) -> None:
        self.changed: list[tuple[str, str]] = []
        self.due: list[tuple[str, float]] = []
        self.free: list[tuple[str, float]] = []

    def queue_changed(self, queue: str, reason: str) -> None:
        self.changed.append((queue, reason))

    def queue_due(self, queue: str, at: float) -> None:
        self.due.append((queue, at))

    def agent_free_at(self, agent_id: str, at: float) -> None:
        self.free.append((agent_id, at))


def service_for(conn, config: Mapping[str, Any], agents_since: float = NOW - 1000,
                trigger: Any = None, **options) -> QueueService:
    """The engine for `config` (queues.yaml's shape), its agents added at `agents_since`;
    `trigger` defaults to a RecordingTrigger, `options` are QueueService's."""
    setup = parse_queues(config)
    svc = QueueService(conn, setup.queues, trigger=trigger or RecordingTrigger(), **options)
    for agent in setup.agents:
        svc.agents.upsert(agent, agents_since)
    return svc


def make_service(conn, **options) -> QueueService:
    """The engine for CONFIG. Softphone agents' devices count as fresh for a day here (these
    tests move the clock by minutes); tests/store/test_agent_device.py tests staleness."""
    options.setdefault("device_stale_seconds", 86400.0)
    return service_for(conn, CONFIG, **options)


def go_available(svc: QueueService, *agent_ids: str, at: float = NOW - 500) -> None:
    for offset, agent_id in enumerate(agent_ids):
        svc.agents.device(agent_id, "registered", at + offset)
        svc.agent_presence(agent_id, "available", at + offset)
