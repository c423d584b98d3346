"""Per-agent figures for today, from the outcome database: calls handled (queue visits the
agent answered since `since`, the business day's midnight) and average handle time (mean
talk time of those that have ended: answer to hang-up or transfer, `queue_visits.talk_s`).
The wallboard's agents table shows them beside each agent's live state. Must not import
Flask or Redis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from ivr.store.models import QueueVisitRow


def agents_today(engine: Engine, since: datetime) -> dict[str, dict[str, Any]]:
    v = QueueVisitRow
    query = (select(v.agent, func.count(), func.avg(v.talk_s))
             .where(v.answered_at >= since, v.agent.is_not(None)).group_by(v.agent))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {agent: {"handled": int(n), "aht": round(float(aht), 1) if aht is not None else None}
            for agent, n, aht in rows}
