"""Liveness and readiness for load balancers and container health checks.

`/healthz` says the process answers; `/readyz` also checks Redis and that flows are loaded, so a
balancer stops sending calls to an instance that cannot serve them. Not signed: no call data.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from ivr.app.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    svc = services()
    checks: dict[str, str] = {}
    try:
        svc.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # readiness reports the failure instead of raising it
        checks["redis"] = f"down: {type(exc).__name__}"
    checks["flows"] = "ok" if svc.flows.flow_ids() else "none loaded"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
