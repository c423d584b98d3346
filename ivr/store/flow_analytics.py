"""Flow analytics from the stored steps: two GROUP BY reads over one flow and period.

Owns the SQL side of `ivr.domain.flow_analytics` (which holds the definitions). The writer
stores on each step its detail, on entries the next node entered and whether it is the call's
first entry there, and copies of the call's flow, answered and contained flags with the time
spent (migration 0007), so a period's figures are ONE pass over the `(flow, at)` index grouped
by (node, detail, next node): no join, no window over a call's steps (`ivr bench flow-report`:
a day of a million steps). Used by `ivr report flows` and `/api/reports/flows`. Must not
import Flask or Redis.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, select

from ivr.domain.flow_analytics import NodeFigures, StepGroup, node_figures
from ivr.store import models as m


def _count_true(column: Any) -> Any:
    return func.sum(case((column.is_(True), 1), else_=0))


def flow_figures(engine: Engine, flow: str, start: datetime, end: datetime,
                 node_types: Mapping[str, str] | None = None) -> list[NodeFigures]:
    """Per-node figures of `flow` for visits made in [start, end). Grouped per hour first,
    the order of the index (so the database never sorts), then summed here."""
    s = m.CallStepRow
    grouped = (
        select(s.node, s.detail, s.next_node, func.count(),
               _count_true(s.answered), _count_true(s.contained),
               func.coalesce(func.sum(s.dwell_s), 0.0), _count_true(s.first_entry))
        .where(s.flow == flow, s.hour >= int(start.timestamp() // 3600),
               s.hour <= int(end.timestamp() // 3600), s.kind == "visit",
               s.at >= start, s.at < end)
        .group_by(s.hour, s.node, s.detail, s.next_node))
    totals: dict[tuple[str, str, str | None], list[float]] = {}
    with engine.connect() as conn:
        for node, detail, nxt, *counts in conn.execute(grouped):
            key = (node, detail or "", nxt)
            into = totals.setdefault(key, [0.0] * len(counts))
            for k, value in enumerate(counts):
                into[k] += float(value or 0)
    groups = [StepGroup(node, det, nxt, int(n), int(a), int(k), t)
              for (node, det, nxt), (n, a, k, t, _) in totals.items()]
    callers: dict[str, int] = {}
    for (node, _, _), (*_, first) in totals.items():
        callers[node] = callers.get(node, 0) + int(first)
    return node_figures(groups, callers, node_types or {})


def flows_json(figures: list[NodeFigures], flow: str, start: datetime,
               end: datetime) -> dict[str, Any]:
    return {"flow": flow, "from": start.isoformat(), "until": end.isoformat(),
            "nodes": [f.as_dict() for f in figures]}


CSV_COLUMNS = ("node", "node_type", "entered", "callers", "ended", "dropped", "drop_rate",
               "no_input", "no_match", "gave_up", "human", "reached_person", "resolved",
               "seconds", "next", "choices")


def flows_csv(figures: list[NodeFigures]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for fig in figures:
        row = fig.as_dict()
        row["next"] = " ".join(f"{k}:{v}" for k, v in sorted(fig.next.items()))
        row["choices"] = " ".join(f"{k}:{v}" for k, v in sorted(fig.choices.items()))
        writer.writerow(["" if row[col] is None else row[col] for col in CSV_COLUMNS])
    return out.getvalue()
