"""What the admin pages share: the flow publisher per app, CSRF checks, the signed-in author.

The publisher is built once per app, lazily (the first admin request, or the first request
after a publish elsewhere), from the app's own services: the registry's prompt catalogue and
queue check, so a draft is judged exactly as the live server judges flows. The database
schema is upgraded on first use by the admin pages, never on the webhook path.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from flask import current_app

# Sign-in, roles and CSRF are dashboards/auth.py's; re-exported for the admin views, which
# also call check_csrf explicitly (require_role checks it too) so no POST can skip it.
from dashboards.auth import check_csrf, csrf_token, current_user, require_role
from ivr.app.calendars import load_calendars
from ivr.app.services import services
from ivr.flows.publishing import CONVERGE_DUE, FlowPublisher

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
    from ivr.store.db import database_url, make_engine, make_session_factory

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


def ensure_schema() -> None:
    """Migrate the database once per process before the first versions query."""
    if current_app.extensions.get("ivr_admin_schema"):
        return
    from ivr.store.db import upgrade_database

    engine = publisher().sessions.kw["bind"]
    upgrade_database(engine)
    current_app.extensions["ivr_admin_schema"] = True


CONVERGE_EVERY = 1.0  # seconds; IVR_FLOW_CONVERGE_EVERY overrides


def converge_flows() -> None:
    """Before a request: pick up flows published by another process or machine. One Redis
    GET when nothing changed, at most once per `IVR_FLOW_CONVERGE_EVERY` seconds (1 s) per
    process: on the webhook path that GET was one Redis round trip in four, and a publish
    reaching every process within a second is what an operator can tell apart from at once.
    A Redis outage only delays convergence (logged)."""
    every = float(services().config.extra.get("flow_converge_every", CONVERGE_EVERY))
    now = time.monotonic()
    if now < current_app.extensions.get(CONVERGE_DUE, 0.0):
        return
    current_app.extensions[CONVERGE_DUE] = now + every
    try:
        if publisher().converge():
            services().flows.reload()
    except (redis.RedisError, OSError) as exc:
        log.warning("flow convergence skipped: %s", exc)


def author_name() -> str:
    """The signed-in user's name, recorded as a version's author."""
    user: Any = current_user()
    for attr in ("username", "name", "email"):
        value = getattr(user, attr, None) or (user.get(attr) if isinstance(user, dict) else None)
        if value:
            return str(value)
    return str(user or "unknown")


__all__ = ["author_name", "check_csrf", "converge_flows", "csrf_token", "ensure_schema",
           "publisher", "require_role"]
