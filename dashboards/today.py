"""Today's figures for the wallboard, from the outcome database (what the writer has folded
in: a few seconds behind the live state).

Definitions: offered = queue visits that started today; answered = visits an agent answered;
abandoned = visits that ended with the caller hanging up; service level = answered within
SERVICE_TARGET seconds / answered; ASA = mean wait of answered visits; containment = calls with
a self-service attempt that never needed a person / calls with a self-service attempt;
satisfaction = mean of today's 1-5 `satisfaction` survey scores; per agent: calls handled =
visits they answered today, average handle time = mean talk time of those that ended.
The service target is per queue (`wallboard:` in queues.yaml, dashboards/wallboard_config.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

SERVICE_TARGET = 20.0  # seconds, for a queue the thresholds do not name


def _in_target(conn: Connection, since: datetime, queues: list[str],
               targets: Mapping[str, float]) -> dict[str, int]:
    """Answered within target per queue: one query per distinct target (usually one)."""
    out: dict[str, int] = {}
    for target in sorted({targets.get(q, SERVICE_TARGET) for q in queues}):
        rows = conn.execute(text(
            "SELECT queue, sum(CASE WHEN answered_at IS NOT NULL AND wait_s <= :target "
            "THEN 1 ELSE 0 END) FROM queue_visits WHERE joined_at >= :since GROUP BY queue"),
            {"since": since, "target": target}).all()
        out.update({q: int(n or 0) for q, n in rows if targets.get(q, SERVICE_TARGET) == target})
    return out


def _agents(conn: Connection, since: datetime) -> dict[str, dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT agent, count(*), avg(talk_s) FROM queue_visits "
        "WHERE answered_at >= :since AND agent IS NOT NULL GROUP BY agent"),
        {"since": since}).all()
    return {agent: {"handled": int(n), "aht": round(float(aht), 1) if aht is not None else None}
            for agent, n, aht in rows}


def today_figures(engine: Engine, now: datetime,
                  targets: Mapping[str, float] | None = None) -> dict[str, Any]:
    since = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT queue, count(*), "
            "sum(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN result = 'hangup' THEN 1 ELSE 0 END), "
            "avg(CASE WHEN answered_at IS NOT NULL THEN wait_s END) "
            "FROM queue_visits WHERE joined_at >= :since GROUP BY queue"),
            {"since": since}).all()
        in_target = _in_target(conn, since, [r[0] for r in rows], targets or {})
        agents = _agents(conn, since)
        contained = conn.execute(text(
            "SELECT sum(CASE WHEN self_service_contained THEN 1 ELSE 0 END), count(*) "
            "FROM calls WHERE started_at >= :since AND self_service_contained IS NOT NULL"),
            {"since": since}).one()
        satisfaction = conn.execute(text(
            "SELECT avg(score), count(score) FROM survey_answers "
            "WHERE question = 'satisfaction' AND at >= :since"), {"since": since}).one()
    queues = {}
    for queue, offered, answered, abandoned, asa in rows:
        answered, abandoned = int(answered or 0), int(abandoned or 0)
        queues[queue] = {
            "offered": int(offered), "answered": answered, "abandoned": abandoned,
            "service_level": round(in_target.get(queue, 0) / answered, 3) if answered else None,
            "abandon_rate": round(abandoned / (answered + abandoned), 3)
            if answered + abandoned else None,
            "asa": round(float(asa), 1) if asa is not None else None}
    return {
        "queues": queues, "agents": agents,
        "containment": round(int(contained[0] or 0) / contained[1], 3) if contained[1] else None,
        "satisfaction": round(float(satisfaction[0]), 2) if satisfaction[0] is not None else None,
        "surveys": int(satisfaction[1] or 0),
    }
