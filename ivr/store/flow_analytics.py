"""Flow analytics from the stored steps: whole hours from the writer's hourly rollups, the
ragged ends of a period from the steps themselves.

Owns the SQL side of `ivr.domain.flow_analytics` (which holds the definitions). The writer
stores on each step its detail, on entries the next node entered and whether it is the call's
first entry there, and copies of the call's flow, answered and contained flags with the time
spent (migration 0007), and adds each visit to `flow_step_rollups`, grouped per (flow, hour,
node, detail, next node) as this report groups them (ivr/store/flow_rollups.py, migration
0011). So a day is a GROUP BY over some thousands of rollup rows (a million steps on a busy
line: `ivr bench flow-report`), and a period that does not start or end on the hour adds the
steps of its first and last part hours, read from the `(flow, hour, ...)` index. Both give the
same sums, so the figures do not depend on where a period starts. Used by `ivr report flows`
and `/api/reports/flows`. Must not import Flask or Redis.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, func, select

from ivr.domain.flow_analytics import NodeFigures, StepGroup, node_figures
from ivr.store import models as m

Totals = dict[tuple[str, str, str | None], list[float]]


def _count_true(column: Any) -> Any:
    return func.sum(case((column.is_(True), 1), else_=0))


def flow_figures(engine: Engine, flow: str, start: datetime, end: datetime,
                 node_types: Mapping[str, str] | None = None) -> list[NodeFigures]:
    """Per-node figures of `flow` for visits made in [start, end)."""
    first_hour = math.ceil(start.timestamp() / 3600)  # the whole hours inside the period
    end_hour = max(first_hour, math.floor(end.timestamp() / 3600))
    totals: Totals = {}
    with engine.connect() as conn:
        if first_hour < end_hour:
            _add(totals, _rollups(conn, flow, first_hour, end_hour))
            _add(totals, _steps(conn, flow, start, min(end, _at(first_hour, start))))
            _add(totals, _steps(conn, flow, max(start, _at(end_hour, start)), end))
        else:
            _add(totals, _steps(conn, flow, start, end))
    return _figures(totals, node_types)


def figures_from_steps(engine: Engine, flow: str, start: datetime, end: datetime,
                       node_types: Mapping[str, str] | None = None) -> list[NodeFigures]:
    """The same figures from the steps alone, without the rollups: what the report read
    before migration 0011 (`ivr bench flow-report` times both and compares them)."""
    totals: Totals = {}
    with engine.connect() as conn:
        _add(totals, _steps(conn, flow, start, end))
    return _figures(totals, node_types)


def _figures(totals: Totals, node_types: Mapping[str, str] | None) -> list[NodeFigures]:
    totals = {key: counts for key, counts in totals.items() if counts[0] > 0}
    groups = [StepGroup(node, det, nxt, int(n), int(a), int(k), t)
              for (node, det, nxt), (n, a, k, t, _) in totals.items()]
    callers: dict[str, int] = {}
    for (node, _, _), (*_, first) in totals.items():
        callers[node] = callers.get(node, 0) + int(first)
    return node_figures(groups, callers, node_types or {})


def _at(hour: int, like: datetime) -> datetime:
    return datetime.fromtimestamp(hour * 3600, like.tzinfo)


def _add(totals: Totals, rows: Iterable[Any]) -> None:
    """Sum rows of (node, detail, next node, visits, answered, contained, seconds, first
    entries) into `totals`; "" and NULL are one detail, and one (absent) next node."""
    for node, detail, nxt, *counts in rows:
        into = totals.setdefault((node, detail or "", nxt or None), [0.0] * len(counts))
        for k, value in enumerate(counts):
            into[k] += float(value or 0)


def _rollups(conn: Connection, flow: str, first_hour: int, end_hour: int) -> Iterable[Any]:
    r = m.FlowStepRollupRow
    return conn.execute(
        select(r.node, r.detail, r.next_node, func.sum(r.visits), func.sum(r.answered),
               func.sum(r.contained), func.sum(r.dwell_s), func.sum(r.first_entries))
        .where(r.flow == flow, r.hour >= first_hour, r.hour < end_hour)
        .group_by(r.node, r.detail, r.next_node)).all()


def _steps(conn: Connection, flow: str, start: datetime, end: datetime) -> Iterable[Any]:
    """The visits in [start, end) from the steps, grouped per hour first, the order of the
    index (so the database never sorts)."""
    if start >= end:
        return []
    s = m.CallStepRow
    return conn.execute(
        select(s.node, s.detail, s.next_node, func.count(),
               _count_true(s.answered), _count_true(s.contained),
               func.coalesce(func.sum(s.dwell_s), 0.0), _count_true(s.first_entry))
        .where(s.flow == flow, s.hour >= int(start.timestamp() // 3600),
               s.hour <= int(end.timestamp() // 3600), s.kind == "visit",
               s.at >= start, s.at < end)
        .group_by(s.hour, s.node, s.detail, s.next_node)).all()


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
