"""The live staffing advisor: per queue, what the agents working now give callers, how many the
target needs now and over the next hour (`GET /api/staffing`, the wallboard's queue cards and
`ivr staffing` without calculator flags).

Inputs, all live: arrivals per 15 minutes today and on the same weekday of recent weeks (the
outcome database, ivr/store/arrivals.py), the mean handle time and the callers' patience the
hold-time estimator has learned (ivr/store/hold_stats.py), and the agents working now from the
queue engine in Redis: signed in with the queue's skill and not on a break (an agent on a
break takes no call, so the advice moves the moment one goes). The target is the queue's
`service_level_target` seconds and the wallboard's `service_level_warn` share (queues.yaml),
the line the board already turns amber at. The arithmetic is ivr/domain/staffing_advice.py.

The arrival forecast costs a database read, so the wallboard keeps it with its other slow
figures (every 10 s); the agents are read on every board. Must not be imported by ivr/domain.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import Engine

from dashboards.auth import require_role, user_engine
from dashboards.wallboard_config import Thresholds, load_thresholds
from ivr.app.services import services
from ivr.config.reporting import load_report_settings
from ivr.domain import holdtime
from ivr.domain.queueing import Presence
from ivr.domain.staffing_advice import Advice, Forecast, advise, as_dict, forecast_arrivals
from ivr.store.arrivals import read_arrivals
from ivr.store.hold_stats import HoldStatsStore
from ivr.store.queue_stats import QueueSnapshot
from ivr.store.redis_queue import QueueService

bp = Blueprint("staffing_api", __name__)
ADVICE_CACHE = 256  # advice results remembered (a few per queue: agents and forecasts vary)


def forecasts(db: Engine, queues: Iterable[str], queues_file: Path,
              now: float) -> dict[str, Forecast]:
    """Each queue's arrival forecast, by the business timezone's day (queues.yaml)."""
    settings = load_report_settings(queues_file)
    history = read_arrivals(db, queues, datetime.fromtimestamp(now, UTC), settings.timezone)
    return {q: forecast_arrivals(a) for q, a in history.items()}


def working_agents(snap: QueueSnapshot) -> int:
    """Agents with the queue's skill who can take its calls now: signed in, not on a break
    and not away (set by missed rings, ivr/store/agents.py)."""
    return (snap.agents_staffed - snap.agents_by_state.get(Presence.BREAK.value, 0)
            - snap.agents_by_state.get(Presence.AWAY.value, 0))


def queue_advice(engine: QueueService, queue: str, snap: QueueSnapshot, forecast: Forecast,
                 share: float) -> Advice:
    """The advice for one queue from its live snapshot and its arrival forecast."""
    stats, _ = HoldStatsStore(engine.conn).get(queue)
    theta = holdtime.abandon_rate(stats)
    within = float(engine.queues[queue].service_level_target)
    return _advise(queue, working_agents(snap), forecast, round(stats.handle_mean, 1),
                   round(1 / theta, 1) if theta > 0 else None, share, within)


@functools.lru_cache(maxsize=ADVICE_CACHE)
def _advise(queue: str, agents: int, forecast: Forecast, aht: float, patience: float | None,
            share: float, within: float) -> Advice:
    """`advise`, remembered: the wallboard asks every second for every queue, and the inputs
    change only when the forecast is read again (every 10 s), an agent changes state or a
    call ends; a big queue's search costs tenths of a second (2,000 agents: ~0.2 s)."""
    return advise(queue, agents, forecast, aht, patience, share, within)


def live_advice(db: Engine, engine: QueueService, queues_file: Path, now: float,
                limits: Mapping[str, Thresholds] | None = None) -> list[dict[str, Any]]:
    """Every queue's advice as data, sorted by queue (the API's and the CLI's answer)."""
    names = sorted(engine.queues)
    limits = limits if limits is not None else load_thresholds(queues_file, names)
    ahead = forecasts(db, names, queues_file, now)
    return [as_dict(queue_advice(engine, q, engine.snapshot(q, now), ahead[q],
                                 limits[q].service_level_warn if q in limits else 0.8))
            for q in names]


@bp.get("/api/staffing")
@require_role("supervisor")
def staffing() -> Any:
    """{"at": epoch, "queues": [advice per queue]} (fields: ivr/domain/staffing_advice.py)."""
    svc = services()
    if svc.queue_engine is None:
        return jsonify(at=time.time(), queues=[])
    now = time.time()
    return jsonify(at=now, queues=live_advice(user_engine(), svc.queue_engine,
                                              svc.config.queues_file, now))
