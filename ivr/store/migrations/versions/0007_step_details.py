"""Flow analytics: each visit keeps what happened there, each entry the next node entered,
and every step a copy of its call's flow and result and its time spent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Self-contained (does not import ivr.store.models). `detail` is the interpreter's note on a
visit ("" on entering a node, "chose 2", "no input; retry 1 of 2", ...); `next_node` is set on
entries and names the next node the call entered (NULL: the call ended there). Rows written
before this revision have no detail, so every visit of theirs counts as an entry, and their
next_node, first_entry, hour and the copies are filled here. `ix_call_steps_flow_hour` holds
every column the analytics read, in the order they group by, so a period is read from the index
alone without a sort (ivr/store/flow_analytics.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = ["""
UPDATE call_steps SET next_node = (
    SELECT later.node FROM call_steps AS later
    WHERE later.call_sid = call_steps.call_sid AND later.kind = 'visit'
      AND later.seq > call_steps.seq
    ORDER BY later.seq LIMIT 1)
WHERE kind = 'visit'
""", """
UPDATE call_steps SET first_entry = NOT EXISTS (
    SELECT 1 FROM call_steps AS earlier
    WHERE earlier.call_sid = call_steps.call_sid AND earlier.kind = 'visit'
      AND earlier.node = call_steps.node AND earlier.seq < call_steps.seq)
WHERE kind = 'visit'
""", """
UPDATE call_steps SET
    flow = (SELECT c.flow FROM calls AS c WHERE c.call_sid = call_steps.call_sid),
    answered = (SELECT c.answered FROM calls AS c WHERE c.call_sid = call_steps.call_sid),
    contained = (SELECT COALESCE(c.self_service_contained, FALSE) FROM calls AS c
                 WHERE c.call_sid = call_steps.call_sid)
"""]
_TIMES = {
    "sqlite": ["UPDATE call_steps SET dwell_s = (julianday(left_at) - julianday(at)) * 86400.0 "
               "WHERE left_at IS NOT NULL",
               "UPDATE call_steps SET hour = CAST(strftime('%s', at) AS INTEGER) / 3600"],
    "postgresql": ["UPDATE call_steps SET dwell_s = EXTRACT(EPOCH FROM left_at - at) "
                   "WHERE left_at IS NOT NULL",
                   "UPDATE call_steps SET hour = FLOOR(EXTRACT(EPOCH FROM at) / 3600)"],
}
_COLUMNS = (("detail", sa.String(200)), ("next_node", sa.String(100)),
            ("first_entry", sa.Boolean()), ("flow", sa.String(100)), ("hour", sa.Integer()),
            ("dwell_s", sa.Float()), ("answered", sa.Boolean()), ("contained", sa.Boolean()))
_INDEX = ["flow", "hour", "node", "detail", "next_node", "kind", "at", "answered", "contained",
          "dwell_s", "first_entry"]


def upgrade() -> None:
    for name, kind in _COLUMNS:
        op.add_column("call_steps", sa.Column(name, kind, nullable=True))
    for statement in _BACKFILL + _TIMES.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.create_index("ix_call_steps_flow_hour", "call_steps", _INDEX)


def downgrade() -> None:
    op.drop_index("ix_call_steps_flow_hour", table_name="call_steps")
    with op.batch_alter_table("call_steps") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
