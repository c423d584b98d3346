"""Per-agent figures for today, from the outcome database: calls handled since `since` (the
business day's midnight) and average handle time as the reports define it, AHT = (talk +
hold + after-call work) / handled calls (ivr/domain/reports.agent_figures over the
`agent_work` rows, docs/reports.md), with the mean hold and the transfer rate. The
wallboard's agents table shows them beside each agent's live state. Must not import Flask or
Redis.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from ivr.store.reports import agents_since


def agents_today(engine: Engine, since: datetime) -> dict[str, dict[str, Any]]:
    return {agent: {"handled": row.handled, "aht": row.aht, "hold": row.hold,
                    "after_call": row.after_call, "transfer_rate": row.transfer_rate}
            for agent, row in agents_since(engine, since).items()}
