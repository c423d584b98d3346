"""Flow versions: every published call flow text with author, message and time.

Revision ID: 0004
Revises: 0003 (interim: the highest present, see _previous)
Create Date: 2026-11-24

Self-contained (does not import ivr.store.models). See ivr/flows/publishing.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"


# 0003 was reserved for follow-up tables that did not land; the chain is 0001-0002-0004 and
# the next revision goes on top of 0004.
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flow_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("flow_file", sa.String(100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_flow_versions"),
        sa.UniqueConstraint("flow_file", "number", name="uq_flow_versions_flow_file_number"),
    )


def downgrade() -> None:
    op.drop_table("flow_versions")
