"""Queue visits keep the wait range the caller was told and whether the wait fell inside it
(issue 15: reports and the wallboard show, per queue and day, the share of answered callers
inside their range and the mean width).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Self-contained (does not import ivr.store.models). Older visits stay NULL: their range was not
recorded, so they count in neither the share nor the width.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_visits") as batch:  # SQLite rebuilds the table
        batch.add_column(sa.Column("range_low", sa.Float(), nullable=True))
        batch.add_column(sa.Column("range_high", sa.Float(), nullable=True))
        batch.add_column(sa.Column("in_range", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue_visits") as batch:
        batch.drop_column("in_range")
        batch.drop_column("range_high")
        batch.drop_column("range_low")
