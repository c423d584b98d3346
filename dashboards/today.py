"""Today's figures for the wallboard, from the outcome database (what the writer has folded
in: a few seconds behind the live state).

The definitions are the reports' (ivr/domain/reports.py, docs/reports.md): this is the day
report from the business day's midnight (queues.yaml `reporting.timezone`, default UTC) to
now, reshaped for the board. So the wallboard and `ivr report` for today always agree.
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
    day = parse_day(None, settings, now)
    rows = day_report(engine, day, "day", settings, now)
    queues = {r.queue: {"offered": r.offered, "answered": r.answered,
                        "abandoned": r.abandoned, "service_level": r.service_level,
                        "asa": r.asa} for r in rows if r.queue != ALL and r.offered}
    total = next((r for r in rows if r.queue == ALL), None)
    return {
        "queues": queues,
        "containment": total.containment if total else None,
        "satisfaction": total.satisfaction if total else None,
        "surveys": total.surveys if total else 0,
    }
