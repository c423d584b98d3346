"""Follow-up tasks (the worklist) and an index to find a caller's calls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Self-contained (does not import ivr.store.models). See ivr/store/tasks.py and
docs/followup.md. `ix_calls_caller_started_at` serves the repeat-caller rule and caller
history (a number's recent calls) without a scan of `calls`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "followup_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("caller", sa.String(40), nullable=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("disposition", sa.String(64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recording_sid", sa.String(64), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("transcript_status", sa.String(20), nullable=True),
        sa.Column("sms", sa.Text(), nullable=True),
        sa.Column("sms_status", sa.String(20), nullable=True),
        sa.Column("sms_sid", sa.String(64), nullable=True),
        sa.Column("sms_sent_at", when, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_followup_tasks"),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.call_sid"], ondelete="SET NULL",
                                name="fk_followup_tasks_call_sid_calls"),
        sa.UniqueConstraint("rule", "call_sid", name="uq_followup_tasks_rule_call_sid"),
    )
    op.create_index("ix_followup_tasks_call_sid", "followup_tasks", ["call_sid"])
    op.create_index("ix_followup_tasks_caller", "followup_tasks", ["caller"])
    op.create_index("ix_followup_tasks_status_due_at", "followup_tasks", ["status", "due_at"])
    op.create_index("ix_calls_caller_started_at", "calls", ["caller", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_caller_started_at", table_name="calls")
    op.drop_table("followup_tasks")
