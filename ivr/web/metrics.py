"""`GET /metrics` (Prometheus) and the per-request timing of every webhook."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, request

from ivr.metrics import WEBHOOK_LATENCY, WEBHOOK_RESPONSES, QueueCollector, Timer, exposition
from ivr.services import services

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    engine = services().queue_engine
    collector = None
    if engine is not None and hasattr(engine, "snapshots"):
        collector = QueueCollector(engine.snapshots)
    return Response(exposition(collector), mimetype="text/plain; version=0.0.4")


@bp.record
def _install_timing(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]

    @app.before_request
    def start_timer() -> None:
        g.ivr_timer = Timer()

    @app.after_request
    def observe(response: Response) -> Response:
        timer = g.pop("ivr_timer", None)
        if timer is not None and request.path.startswith("/voice"):
            endpoint = request.endpoint or "unknown"
            WEBHOOK_LATENCY.labels(endpoint).observe(timer.elapsed())
            WEBHOOK_RESPONSES.labels(endpoint, str(response.status_code)).inc()
        return response
