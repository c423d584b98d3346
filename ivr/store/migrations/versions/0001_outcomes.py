"""Outcomes: calls, their history (steps, self-service, queue visits, callbacks and attempts,
voicemails, survey answers, dispositions, tags) and the processed-events ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Self-contained on purpose (does not import ivr.store.models): a migration describes the schema
as it was at this revision, whatever the models say later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
CHILDREN = ("call_steps", "self_service_attempts", "queue_visits", "callbacks", "voicemails",
            "survey_answers", "dispositions")


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                     autoincrement=True, nullable=False)


def _child(table: str, *columns: sa.Column[Any] | sa.Constraint) -> None:
    """A per-call history table: surrogate id, call_sid (cascading FK, indexed), seq."""
    op.create_table(
        table, _id(),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["call_sid"], ["calls.call_sid"],
                                name=f"fk_{table}_call_sid_calls", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_call_sid", table, ["call_sid"])


def upgrade() -> None:
    _calls()
    _processed_events()
    _call_history()
    _call_results()
    op.create_table(
        "call_tags",
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.call_sid"],
                                name="fk_call_tags_call_sid_calls", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("call_sid", "tag", name="pk_call_tags"),
    )
    op.create_index("ix_call_tags_tag", "call_tags", ["tag"])


def _calls() -> None:
    op.create_table(
        "calls",
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(40)),
        sa.Column("dialed", sa.String(40)),
        sa.Column("flow", sa.String(100)),
        sa.Column("flow_version", sa.String(64)),
        sa.Column("started_at", WHEN),
        sa.Column("ended_at", WHEN),
        sa.Column("duration_s", sa.Float()),
        sa.Column("end_status", sa.String(20)),
        sa.Column("queue", sa.String(64)),
        sa.Column("skill", sa.String(64)),
        sa.Column("wait_s", sa.Float()),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("talk_s", sa.Float()),
        sa.Column("self_service_contained", sa.Boolean()),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("updated_at", WHEN),
        sa.PrimaryKeyConstraint("call_sid", name="pk_calls"),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_outcome_started_at", "calls", ["outcome", "started_at"])


def _processed_events() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("stream_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("call_sid", sa.String(64)),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("processed_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_call_sid", "processed_events", ["call_sid"])


def _call_history() -> None:
    _child("call_steps",
           sa.Column("kind", sa.String(10), nullable=False),
           sa.Column("node", sa.String(100), nullable=False),
           sa.Column("at", WHEN, nullable=False),
           sa.Column("left_at", WHEN),
           sa.Column("digits", sa.String(64)),
           sa.Column("speech", sa.Text()),
           sa.Column("confidence", sa.Float()))
    _child("self_service_attempts",
           sa.Column("node", sa.String(100), nullable=False),
           sa.Column("task", sa.String(100), nullable=False),
           sa.Column("solved", sa.Boolean(), nullable=False),
           sa.Column("at", WHEN, nullable=False))
    _child("queue_visits",
           sa.Column("queue", sa.String(64), nullable=False),
           sa.Column("skill", sa.String(64)),
           sa.Column("joined_at", WHEN, nullable=False),
           sa.Column("left_at", WHEN),
           sa.Column("result", sa.String(20)),
           sa.Column("wait_s", sa.Float()),
           sa.Column("agent", sa.String(64)),
           sa.Column("answered_at", WHEN),
           sa.Column("talk_s", sa.Float()))
    op.create_index("ix_queue_visits_queue_joined_at", "queue_visits", ["queue", "joined_at"])


def _call_results() -> None:
    _child("callbacks",
           sa.Column("callback_id", sa.String(64), nullable=False),
           sa.Column("queue", sa.String(64)),
           sa.Column("number", sa.String(40)),
           sa.Column("requested_at", WHEN),
           sa.Column("status", sa.String(20), nullable=False),
           sa.Column("done_at", WHEN),
           sa.UniqueConstraint("call_sid", "callback_id",
                               name="uq_callbacks_call_sid_callback_id"))
    op.create_index("ix_callbacks_callback_id", "callbacks", ["callback_id"])
    op.create_table(
        "callback_attempts", _id(),
        sa.Column("callback_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("leg_sid", sa.String(64)),
        sa.Column("agent", sa.String(64)),
        sa.ForeignKeyConstraint(["callback_pk"], ["callbacks.id"],
                                name="fk_callback_attempts_callback_pk_callbacks",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_callback_attempts"),
    )
    op.create_index("ix_callback_attempts_callback_pk", "callback_attempts", ["callback_pk"])
    _child("voicemails",
           sa.Column("recording_sid", sa.String(64), nullable=False),
           sa.Column("url", sa.Text()),
           sa.Column("duration_s", sa.Float()),
           sa.Column("queue", sa.String(64)),
           sa.Column("recorded_at", WHEN),
           sa.Column("transcript", sa.Text()),
           sa.Column("transcript_confidence", sa.Float()),
           sa.Column("transcribed_at", WHEN),
           sa.UniqueConstraint("call_sid", "recording_sid",
                               name="uq_voicemails_call_sid_recording_sid"))
    _child("survey_answers",
           sa.Column("question", sa.String(100), nullable=False),
           sa.Column("answer", sa.Text(), nullable=False),
           sa.Column("score", sa.Integer()),
           sa.Column("at", WHEN, nullable=False),
           sa.UniqueConstraint("call_sid", "question", name="uq_survey_answers_call_sid_question"))
    _child("dispositions",
           sa.Column("agent", sa.String(64), nullable=False),
           sa.Column("code", sa.String(64), nullable=False),
           sa.Column("notes", sa.Text()),
           sa.Column("at", WHEN, nullable=False))


def downgrade() -> None:
    for table in ("call_tags", "callback_attempts", *CHILDREN, "processed_events", "calls"):
        op.drop_table(table)
