"""Hourly rollups of a flow's visits, kept by the writer in the transaction that writes them.

Why: the flow report over a busy day grouped a million steps. That met the bar on SQLite but
not on PostgreSQL right after a day's writes (its index-only scan fetches every row from the
heap until VACUUM has marked the pages all-visible: 1.1 to 4.4 s, `ivr bench flow-report`).
`flow_step_rollups` holds, per (flow, hour, node, detail, next node), what the report sums:
visits, how many of their calls were answered or contained, first entries, time spent. A day
is then a few thousand rows (ivr/store/flow_analytics.py reads them for whole hours).

How it stays exact: every step row is written by `call_records.write_record`, which deletes a
call's steps (RETURNING what they counted) and inserts its new ones; `count_steps` adds the
old rows with -1 and the new ones with +1 to the session's pending deltas, and just before the
transaction commits they are applied as upserts (`visits = visits + delta`), keys sorted, so
two writers always lock rollup rows in the same order (no deadlock), and a rewrite that
changes nothing writes nothing. A rolled-back transaction drops its deltas with its rows.
Steps deleted any other way (a call row deleted: ON DELETE CASCADE) would not be subtracted;
nothing in the product deletes calls, and `rebuild(session)` recomputes the table from the
steps (migration 0011 does the same). NULL detail and next node are stored as "".
Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, case, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from ivr.store import models as m

_PENDING = "flow_rollup_deltas"
KEY = ("flow", "hour", "node", "detail", "next_node")
VALUES = ("visits", "answered", "contained", "first_entries", "dwell_s")
# What a step row must carry to be counted (the columns `count_steps` reads).
STEP_COLUMNS = ("kind", "flow", "hour", "node", "detail", "next_node", "answered",
                "contained", "first_entry", "dwell_s")

Key = tuple[str, int, str, str, str]


def step_key(step: Mapping[Any, Any]) -> Key | None:
    """The rollup row a step counts in; None when the report never reads it (not a visit,
    or no flow or hour)."""
    if step["kind"] != "visit" or step["flow"] is None or step["hour"] is None:
        return None
    return (step["flow"], int(step["hour"]), step["node"], step["detail"] or "",
            step["next_node"] or "")


def count_steps(session: Session, steps: Iterable[Mapping[Any, Any]], sign: int) -> None:
    """Add (`sign` 1) or take away (-1) `steps` in the rollups when `session` commits."""
    pending: dict[Key, list[float]] = session.info.setdefault(_PENDING, {})
    for step in steps:
        key = step_key(step)
        if key is None:
            continue
        into = pending.setdefault(key, [0, 0, 0, 0, 0.0])
        into[0] += sign
        into[1] += sign if step["answered"] else 0
        into[2] += sign if step["contained"] else 0
        into[3] += sign if step["first_entry"] else 0
        into[4] += sign * float(step["dwell_s"] or 0.0)


def step_values(row: m.CallStepRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in STEP_COLUMNS}


def returned_columns() -> list[Any]:
    """The step columns to RETURN from a DELETE so the deleted steps can be taken away."""
    return [getattr(m.CallStepRow, name) for name in STEP_COLUMNS]


def apply_pending(session: Session) -> int:
    """Write the session's pending deltas now (normally `before_commit` does); returns the
    rollup rows touched. Deltas that cancel out (a call rewritten unchanged) are skipped."""
    pending: dict[Key, list[float]] = session.info.pop(_PENDING, {})
    rows = [dict(zip(KEY + VALUES, (*key, int(v[0]), int(v[1]), int(v[2]), int(v[3]), v[4]),
                     strict=True))
            for key, v in sorted(pending.items())
            if any(v[:4]) or abs(v[4]) > 1e-9]
    if rows:
        session.execute(_upsert(session), rows)
    return len(rows)


def _upsert(session: Session) -> Any:
    table = cast(Table, m.FlowStepRollupRow.__table__)
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: table.c[name] + stmt.excluded[name] for name in VALUES})


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.get(_PENDING):
        apply_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _after_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one: committed (applied) or rolled back
        session.info.pop(_PENDING, None)


def _count_true(column: Any) -> Any:
    return func.sum(case((column.is_(True), 1), else_=0))


def rebuild(session: Session) -> None:
    """Recompute every rollup from the stored steps (a repair; migration 0011's backfill)."""
    s, r = m.CallStepRow, m.FlowStepRollupRow
    detail, nxt = func.coalesce(s.detail, ""), func.coalesce(s.next_node, "")
    session.info.pop(_PENDING, None)
    session.execute(delete(r))
    session.execute(insert(r).from_select(
        list(KEY + VALUES),
        select(s.flow, s.hour, s.node, detail, nxt, func.count(), _count_true(s.answered),
               _count_true(s.contained), _count_true(s.first_entry),
               func.coalesce(func.sum(s.dwell_s), 0.0))
        .where(s.kind == "visit", s.flow.is_not(None), s.hour.is_not(None))
        .group_by(s.flow, s.hour, s.node, detail, nxt)))
