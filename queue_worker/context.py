"""What a queue job works with: the QueueService, CallControl and public URLs, built once per
worker process and per Redis connection (never at import).

`run_worker` installs a context explicitly; a job started by a plain `rq worker` builds one
from the environment (`ivr.config.settings.from_env`) on first use. Tests install their own with
`install_context` to point CallControl at a local HTTP server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from rq import Queue, get_current_job

from ivr.config.queues import build_queue_service, load_engine_options
from ivr.config.settings import from_env
from ivr.domain.queue_ports import CallControl
from ivr.phone.call_control import TwilioCallControl
from ivr.store.jobs import ROUTING_QUEUE, RqTrigger
from ivr.store.redis_queue import QueueService

_CONTEXTS: dict[str, JobContext] = {}


@dataclass
class JobContext:
    service: QueueService
    control: CallControl
    rq: Queue
    public_base_url: str
    tick_seconds: float = 5.0
    config: Any = None  # the settings it was built from (the transcription job reads its API)


def connection_key(conn: redis.Redis) -> str:
    kwargs = conn.connection_pool.connection_kwargs
    return repr(sorted((k, str(v)) for k, v in kwargs.items() if k in (
        "host", "port", "db", "path", "username")))


def install_context(conn: redis.Redis, ctx: JobContext) -> JobContext:
    _CONTEXTS[connection_key(conn)] = ctx
    return ctx


def build_context(conn: redis.Redis, config: Any | None = None,
                  control: CallControl | None = None) -> JobContext:
    """The production context: config from the environment, Twilio REST call control."""
    config = config or from_env()
    rq_queue = Queue(ROUTING_QUEUE, connection=conn)
    options = load_engine_options(config.queues_file)
    tick = float(options.pop("tick_seconds", 5.0))
    svc = build_queue_service(config, conn, RqTrigger(rq_queue), **options)
    return JobContext(svc, control or TwilioCallControl.from_config(config), rq_queue,
                      config.public_base_url, tick, config)


def installed_config(conn: redis.Redis) -> Any | None:
    """The settings of the context installed for `conn`, if one is (without building one)."""
    ctx = _CONTEXTS.get(connection_key(conn))
    return ctx.config if ctx is not None else None


def current_context_for(conn: redis.Redis) -> JobContext:
    """The context installed for `conn` (run_worker installs one), else one from the env."""
    key = connection_key(conn)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = build_context(conn)
    return _CONTEXTS[key]


def current_context() -> JobContext:
    job = get_current_job()
    if job is None:
        raise RuntimeError("queue jobs run inside an RQ worker; use run_worker or SimpleWorker")
    conn = job.connection
    key = connection_key(conn)
    if key not in _CONTEXTS:
        _CONTEXTS[key] = build_context(conn)
    return _CONTEXTS[key]
