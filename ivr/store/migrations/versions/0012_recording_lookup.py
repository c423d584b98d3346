"""Looking a recording up by its SID reads an index (issue 14): `/recordings/<sid>` finds a
voicemail by `voicemails.recording_sid` and an agent call's recording by the `recording`
events that name it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Why: both lookups scanned. The voicemails' unique key is (call_sid, recording_sid), which a
lookup by recording SID alone cannot use; an agent call's recording was found by extracting
`data.recording` from every `recording` event (a JSON expression no index served). The
events now carry the SID in a column of their own, `processed_events.recording_sid`, set by
the writer for `recording` events (call_records.log_event) and filled here from the events
already logged. Self-contained (does not import ivr.store.models).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("processed_events", sa.Column("recording_sid", sa.String(64), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    sid = "json_extract(data, '$.recording')" if sqlite else "(data ->> 'recording')"
    op.execute(f"UPDATE processed_events SET recording_sid = {sid} "  # noqa: S608 - constant
               "WHERE kind = 'recording'")
    op.create_index("ix_processed_events_recording_sid", "processed_events", ["recording_sid"])
    op.create_index("ix_voicemails_recording_sid", "voicemails", ["recording_sid"])


def downgrade() -> None:
    op.drop_index("ix_voicemails_recording_sid", table_name="voicemails")
    op.drop_index("ix_processed_events_recording_sid", table_name="processed_events")
    with op.batch_alter_table("processed_events") as batch:  # SQLite rebuilds the table
        batch.drop_column("recording_sid")
