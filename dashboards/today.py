"""Today's figures for the wallboard, from the outcome database (what the writer has folded
in: a few seconds behind the live state).

The definitions are the reports' (ivr/domain/reports.py, docs/reports.md): this is the day
report for the business day (queues.yaml `reporting.timezone`, default UTC), reshaped for the
board, so the wallboard and `ivr report` for today always agree. Per queue: offered, answered,
abandoned, service level (against each queue's `service_level_target`), ASA, the share of
answered callers whose wait fell inside the range they were told and its mean width; overall:
containment and satisfaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from ivr.domain.reports import ALL, ReportSettings
from ivr.store.reports import day_report, parse_day


def today_figures(engine: Engine, now: datetime,
                  settings: ReportSettings | None = None) -> dict[str, Any]:
    settings = settings or ReportSettings()
    rows = day_report(engine, parse_day(None, settings, now), "day", settings, now)
    queues = {r.queue: {"offered": r.offered, "answered": r.answered,
                        "abandoned": r.abandoned, "service_level": r.service_level,
                        "asa": r.asa, "aht": r.aht, "hold": r.hold,
                        "transfer_rate": r.transfer_rate, "in_range_share": r.in_range_share,
                        "range_width": r.range_width, "ranges_told": r.ranges_told}
              for r in rows if r.queue != ALL and (r.offered or r.short_abandoned)}
    total = next(r for r in rows if r.queue == ALL)
    return {"queues": queues, "containment": total.containment,
            "satisfaction": total.satisfaction, "surveys": total.surveys}
