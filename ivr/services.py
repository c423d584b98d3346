"""The services a running app holds: connections made once and passed explicitly.

`build_services(config)` is called by `create_app` (and by workers and the simulator), never at
import. It connects Redis (the embedded server when `REDIS_URL` is unset), loads the flows,
lookup sources and queue engine, and wires them into the call service. Views reach them through
`services()`; nothing else keeps global state, so several web processes can share one Redis.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from flask import current_app

from ivr.calls import AcceptAll, CallService, QueueHandOff
from ivr.config import Config
from ivr.domain.flow.actions import CallEvent
from ivr.lookups import load_sources
from ivr.store import keys
from ivr.store.call_state import CallStateStore
from ivr.store.embedded_redis import EmbeddedRedis
from ivr.twiml import Urls

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    config: Config
    redis: redis.Redis
    calls: CallService
    urls: Urls
    flows: Any
    queue_engine: Any = None
    clock: Callable[[], datetime] = utc_now
    fallback_queue: str = "support"
    embedded: EmbeddedRedis | None = field(default=None, repr=False)

    def publish(self, kind: str, call_sid: str, data: Mapping[str, Any], at: datetime) -> None:
        """Append an outcome event to the Redis stream; the database writer picks it up."""
        publish_event(self.redis, kind, call_sid, data, at)

    def queue_left(self, call_sid: str, event: CallEvent) -> None:
        if self.queue_engine is not None and hasattr(self.queue_engine, "left"):
            self.queue_engine.left(call_sid, event)
        self.publish("queue_left", call_sid, dict(event.data), event.now)

    def call_ended(self, call_sid: str, form: Mapping[str, str], now: datetime) -> None:
        if self.queue_engine is not None and hasattr(self.queue_engine, "call_ended"):
            self.queue_engine.call_ended(call_sid, form, now)
        self.publish("call_ended", call_sid, {
            "status": form.get("CallStatus", ""),
            "duration": form.get("CallDuration", ""),
        }, now)

    def recording_ready(self, call_sid: str, mailbox: str, form: Mapping[str, str],
                        now: datetime) -> None:
        self.publish("voicemail_recorded", call_sid, {
            "mailbox": mailbox,
            "url": form.get("RecordingUrl", ""),
            "sid": form.get("RecordingSid", ""),
            "duration": form.get("RecordingDuration", ""),
            "status": form.get("RecordingStatus", ""),
        }, now)


def publish_event(conn: redis.Redis, kind: str, call_sid: str, data: Mapping[str, Any],
                  at: datetime) -> None:
    conn.xadd(keys.events_stream(), {
        "kind": kind, "call_sid": call_sid, "at": at.isoformat(),
        "data": json.dumps(dict(data), default=str),
    })


def connect_redis(config: Config) -> tuple[redis.Redis, EmbeddedRedis | None]:
    if config.redis_url:
        return redis.Redis.from_url(config.redis_url), None
    embedded = EmbeddedRedis(config.instance_dir / "redis").start()
    return redis.Redis.from_url(embedded.url), embedded


def build_services(config: Config, conn: redis.Redis | None = None) -> Services:
    from ivr.flows import FlowRegistry
    from ivr.prompt_catalog import load_catalog

    embedded = None
    if conn is None:
        conn, embedded = connect_redis(config)
    urls = Urls(config.public_base_url)
    catalog = load_catalog(config.prompts_catalog)
    flows = FlowRegistry(config.flows_dir, catalog)
    queues: QueueHandOff = AcceptAll()
    services_ref: dict[str, Services] = {}

    def publish(kind: str, sid: str, data: Mapping[str, Any], at: datetime) -> None:
        services_ref["s"].publish(kind, sid, data, at)

    calls = CallService(
        flows=flows,
        store=CallStateStore(conn, config.call_state_ttl),
        urls=urls,
        lookups=load_sources(config.flows_dir.parent / "lookups.yaml"),
        queues=queues,
        publish=publish,
        audio=_audio_lookup(config, catalog),
    )
    svc = Services(config=config, redis=conn, calls=calls, urls=urls, flows=flows,
                   embedded=embedded)
    services_ref["s"] = svc
    return svc


def _audio_lookup(config: Config, catalog: Any) -> Any:
    try:
        from ivr.prompt_audio import PromptAudio
    except ImportError:  # prompt audio not built into this install: every prompt uses <Say>
        return None
    return PromptAudio(config.prompts_audio_dir, catalog).url_path


def services() -> Services:
    return current_app.extensions["ivr"]
