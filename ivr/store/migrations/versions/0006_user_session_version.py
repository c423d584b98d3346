"""Users get a session version: bumping it ends all their page sessions (issue 12).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Self-contained (does not import ivr.store.models). See dashboards/sessions.py: every session
records the version it was made under; logout, a new password and a new role bump it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite rebuilds the table; others ALTER
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
