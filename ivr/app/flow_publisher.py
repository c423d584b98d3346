"""The app's flow publisher, and flow convergence before each request.

The publisher is built once per app, lazily (the first admin request, or the first request
after a publish elsewhere), from the app's own services: the registry's prompt catalogue and
queue check, so a draft is judged exactly as the live server judges flows. Convergence picks
up flows published by another process or machine; every webhook depends on it, so create_app
registers it (it used to be registered by the admin flows page, issue 13).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from flask import current_app

from ivr.app.services import services
from ivr.config.calendars import load_calendars
from ivr.flows.publishing import CONVERGE_DUE, FlowPublisher
from ivr.store.db import database_url, make_engine, make_session_factory

log = logging.getLogger(__name__)
_LOCK = threading.Lock()

EXTENSION = "ivr_admin_publisher"


def publisher() -> FlowPublisher:
    """The app's FlowPublisher (made on first use)."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        with _LOCK:
            found = current_app.extensions.get(EXTENSION) or _build()
            current_app.extensions[EXTENSION] = found
    return found


def _build() -> FlowPublisher:
    svc = services()
    config = svc.config
    engine = make_engine(database_url(config.database_url, config.instance_dir),
                         **config.db_pool())
    registry = svc.flows
    return FlowPublisher(config.flows_dir, lambda: registry.catalog,
                         make_session_factory(engine), svc.redis,
                         extra_check=getattr(registry, "extra_check", None),
                         calendars=lambda: _calendars(registry))


def _calendars(registry: Any) -> Any:
    """calendars.yaml as the registry reads it (None when it reads none)."""
    path = getattr(registry, "calendars_file", None)
    return load_calendars(path) if path is not None else None


def converge_flows() -> None:
    """Before a request: pick up flows published by another process or machine. One Redis
    GET when nothing changed, at most once per `IVR_FLOW_CONVERGE_EVERY` seconds (1 s) per
    process: on the webhook path that GET was one Redis round trip in four, and a publish
    reaching every process within a second is what an operator can tell apart from at once.
    A Redis outage only delays convergence (logged)."""
    every = services().config.flow_converge_every
    now = time.monotonic()
    if now < current_app.extensions.get(CONVERGE_DUE, 0.0):
        return
    current_app.extensions[CONVERGE_DUE] = now + every
    try:
        if publisher().converge():
            services().flows.reload()
    except (redis.RedisError, OSError) as exc:
        log.warning("flow convergence skipped: %s", exc)
