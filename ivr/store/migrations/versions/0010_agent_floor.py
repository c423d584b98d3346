"""The agent floor in the outcome database (issue 14): holds, after-call work and transfers
on calls and on the queue visit each agent answered, the floor's lists on the call (agents,
transfers, monitoring, recordings, parties added, missed rings) and one row per agent per
call (`agent_work`) for the per-agent figures (AHT = talk + hold + after-call work over
handled calls, hold time, transfer rate; docs/reports.md).

Revision ID: 0010_agent_floor
Revises: 0009
Create Date: 2026-12-03

Self-contained (does not import ivr.store.models). Older rows stay NULL: a call recorded
before this has no hold or after-call time (its AHT is its talk, as it was measured then);
`ivr db rebuild`-style re-folds (call_records.rebuild_call) fill them from the events.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_agent_floor"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:  # SQLite rebuilds the table
        batch.add_column(sa.Column("hold_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("hold_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("after_call_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("transferred", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("floor", sa.JSON(), nullable=True))
    with op.batch_alter_table("queue_visits") as batch:
        batch.add_column(sa.Column("hold_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("hold_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("after_call_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("transferred", sa.Boolean(), nullable=True))
    op.create_table(
        "agent_work",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64),
                  sa.ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=False),
        sa.Column("hold_count", sa.Integer(), nullable=False),
        sa.Column("after_call_s", sa.Float(), nullable=True),
        sa.Column("transfers", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agent_work_call_sid", "agent_work", ["call_sid"])
    op.create_index("ix_agent_work_agent_at", "agent_work", ["agent", "at"])
    op.create_index("ix_agent_work_at", "agent_work", ["at"])


def downgrade() -> None:
    op.drop_index("ix_agent_work_at", table_name="agent_work")
    op.drop_index("ix_agent_work_agent_at", table_name="agent_work")
    op.drop_index("ix_agent_work_call_sid", table_name="agent_work")
    op.drop_table("agent_work")
    with op.batch_alter_table("queue_visits") as batch:
        for name in ("transferred", "after_call_s", "hold_s", "hold_count"):
            batch.drop_column(name)
    with op.batch_alter_table("calls") as batch:
        for name in ("floor", "transferred", "after_call_s", "hold_s", "hold_count"):
            batch.drop_column(name)
