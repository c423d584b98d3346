"""PostgreSQL: autovacuum keeps `call_steps`' visibility map current as steps are inserted, so
flow analytics stay an index-only read (issue 15: a day of a million steps in under a second).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Why: flow analytics read one covering index (migration 0007). PostgreSQL answers from the
index alone only for pages its visibility map marks all-visible, which VACUUM sets; an
insert-only table is vacuumed for inserts only after 20 % of its size has been added
(autovacuum_vacuum_insert_scale_factor's default), so on a table holding months of steps the
whole of today stays unvacuumed, and a day's report fetched every row from the heap as well:
`ivr bench flow-report` measured 1.1 s for 1 million freshly written steps, 0.7 s once vacuumed
(on a loaded 2-core machine). With 1 % the tail left unvacuumed is a small part of a day.
SQLite has no such map: nothing to do there. Self-contained (does not import ivr.store.models).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSERT_SCALE = 0.01  # share of the table inserted since the last vacuum that triggers one


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE call_steps SET (autovacuum_vacuum_insert_scale_factor = "
                   f"{INSERT_SCALE}, autovacuum_analyze_scale_factor = {INSERT_SCALE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE call_steps RESET (autovacuum_vacuum_insert_scale_factor, "
                   "autovacuum_analyze_scale_factor)")
