"""`GET /metrics` (Prometheus) and the per-request timing of every webhook.

With `IVR_METRICS_TOKEN` set, `/metrics` answers only a request carrying `Authorization:
Bearer <token>` (compared in constant time) and 401 otherwise: queue sizes and failure counts
are for the scraper, not the internet (issue 12, item 7e). Unset, it is open as before.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Flask, Response, g, request

from ivr.app.services import services
from ivr.config.metrics import JobFailureCollector, QueueCollector, Timer, exposition
from ivr.store.jobs import WORKER_QUEUES
from ivr.web.pipeline import observe

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    svc = services()
    token = svc.config.metrics_token or ""
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(),
                                         f"Bearer {token}".encode()):
        return Response("send Authorization: Bearer <IVR_METRICS_TOKEN>\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    collectors: list[Any] = [JobFailureCollector(svc.redis, WORKER_QUEUES)]
    engine = svc.queue_engine
    if engine is not None and hasattr(engine, "snapshots"):
        collectors.append(QueueCollector(engine.snapshots))
    body = exposition(*collectors, multiprocess_dir=svc.config.prometheus_multiproc_dir)
    return Response(body, mimetype="text/plain; version=0.0.4")


@bp.record
def _install_timing(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]
    app.before_request(start_timer)
    app.after_request(observe_webhook)


def start_timer() -> None:
    g.ivr_timer = Timer()


def observe_webhook(response: Response) -> Response:
    """A webhook Flask answered, counted by the pipeline's `observe` (the lane calls it too)."""
    timer = g.pop("ivr_timer", None)
    if timer is not None and request.path.startswith("/voice"):
        observe(request.endpoint or "unknown", response.status_code, timer.elapsed())
    return response
