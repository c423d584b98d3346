"""Today's figures for the wallboard, from the outcome database (what the writer has folded
in: a few seconds behind the live state).

The definitions are the reports' (ivr/domain/reports.py, docs/reports.md): this is the day
report for the business day (queues.yaml `reporting.timezone`, default UTC) so far, reshaped
for the board, so the wallboard and `ivr report` for today always agree. Per queue: offered,
answered, abandoned, service level, abandon rate, ASA; per agent: calls handled and average
handle time (`agent_figures`); overall: containment and satisfaction. Service targets are each
queue's `service_level_target` (the wallboard passes them as `targets`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from ivr.domain.reports import ALL, ReportSettings, agent_figures, compute_report
from ivr.store.reports import day_facts, parse_day


def today_figures(engine: Engine, now: datetime, targets: Mapping[str, float] | None = None,
                  settings: ReportSettings | None = None) -> dict[str, Any]:
    settings = settings or ReportSettings()
    if targets:
        settings = replace(settings, targets={**settings.targets, **targets})
    buckets, facts = day_facts(engine, parse_day(None, settings, now), "day", settings)
    rows = compute_report(facts, buckets, settings, now.timestamp())
    queues = {r.queue: {"offered": r.offered, "answered": r.answered,
                        "abandoned": r.abandoned, "service_level": r.service_level,
                        "abandon_rate": r.abandon_rate, "asa": r.asa}
              for r in rows if r.queue != ALL and (r.offered or r.short_abandoned)}
    total = next(r for r in rows if r.queue == ALL)
    return {"queues": queues, "agents": agent_figures(facts.visits),
            "containment": total.containment, "satisfaction": total.satisfaction,
            "surveys": total.surveys}
