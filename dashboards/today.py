"""Today's figures for the wallboard, from the outcome database (what the writer has folded
in: a few seconds behind the live state).

Definitions: offered = queue visits that started today; answered = visits an agent answered;
abandoned = visits that ended with the caller hanging up; service level = answered within
SERVICE_TARGET seconds / answered; ASA = mean wait of answered visits; containment = calls with
a self-service attempt that never needed a person / calls with a self-service attempt;
satisfaction = mean of today's 1-5 `satisfaction` survey scores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

SERVICE_TARGET = 20.0  # seconds


def today_figures(engine: Engine, now: datetime) -> dict[str, Any]:
    since = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT queue, count(*), "
            "sum(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN result = 'hangup' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN answered_at IS NOT NULL AND wait_s <= :target THEN 1 ELSE 0 END), "
            "avg(CASE WHEN answered_at IS NOT NULL THEN wait_s END) "
            "FROM queue_visits WHERE joined_at >= :since GROUP BY queue"),
            {"since": since, "target": SERVICE_TARGET}).all()
        contained = conn.execute(text(
            "SELECT sum(CASE WHEN self_service_contained THEN 1 ELSE 0 END), count(*) "
            "FROM calls WHERE started_at >= :since AND self_service_contained IS NOT NULL"),
            {"since": since}).one()
        satisfaction = conn.execute(text(
            "SELECT avg(score), count(score) FROM survey_answers "
            "WHERE question = 'satisfaction' AND at >= :since"), {"since": since}).one()
    queues = {}
    for queue, offered, answered, abandoned, in_target, asa in rows:
        answered = int(answered or 0)
        queues[queue] = {
            "offered": int(offered), "answered": answered, "abandoned": int(abandoned or 0),
            "service_level": round(int(in_target or 0) / answered, 3) if answered else None,
            "asa": round(float(asa), 1) if asa is not None else None}
    return {
        "queues": queues,
        "containment": round(int(contained[0] or 0) / contained[1], 3) if contained[1] else None,
        "satisfaction": round(float(satisfaction[0]), 2) if satisfaction[0] is not None else None,
        "surveys": int(satisfaction[1] or 0),
    }
