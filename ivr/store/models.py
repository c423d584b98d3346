"""The outcome database's tables, as SQLAlchemy 2 typed models.

Owns the schema only; the migrations in `ivr/store/migrations/versions/` create it (a test
compares the two on SQLite and PostgreSQL, so they cannot drift). Must not import Flask, Redis
or the domain: the writer (`queue_worker/outcomes.py`) maps a `CallRecord` onto these rows.

`calls` holds one row per call with the folded summary; the child tables hold its history in
time order (`seq`). Every child row of a call is rewritten each time an event of that call is
applied (see queue_worker/outcomes.py), so children carry a surrogate id and no meaning in it.
`processed_events` is both the exactly-once ledger (event id primary key) and the raw event log
the records are folded from, which lets a call be rebuilt when a definition changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so migrations on PostgreSQL and SQLite refer to the same names.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")
When = DateTime(timezone=True)
Sid = String(64)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _call_fk() -> Mapped[str]:
    return mapped_column(Sid, ForeignKey("calls.call_sid", ondelete="CASCADE"), index=True)


class CallRow(Base):
    """One call: who, which flow, how it went (see ivr/domain/outcome.py for definitions)."""

    __tablename__ = "calls"
    __table_args__ = (Index(None, "started_at"), Index(None, "outcome", "started_at"),
                      Index(None, "caller", "started_at"))  # 0005: repeat callers, history

    call_sid: Mapped[str] = mapped_column(Sid, primary_key=True)
    caller: Mapped[str | None] = mapped_column(String(40))
    dialed: Mapped[str | None] = mapped_column(String(40))
    flow: Mapped[str | None] = mapped_column(String(100))
    flow_version: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(When)
    ended_at: Mapped[datetime | None] = mapped_column(When)
    duration_s: Mapped[float | None] = mapped_column(Float)
    end_status: Mapped[str | None] = mapped_column(String(20))
    queue: Mapped[str | None] = mapped_column(String(64))
    skill: Mapped[str | None] = mapped_column(String(64))
    wait_s: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    agent: Mapped[str | None] = mapped_column(String(64))
    talk_s: Mapped[float | None] = mapped_column(Float)
    self_service_contained: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(20), default="in_progress")
    updated_at: Mapped[datetime | None] = mapped_column(When)
    # 0010: the agent floor (ivr/domain/outcome_floor.py)
    hold_count: Mapped[int | None] = mapped_column(Integer)
    hold_s: Mapped[float | None] = mapped_column(Float)
    after_call_s: Mapped[float | None] = mapped_column(Float)
    transferred: Mapped[bool | None] = mapped_column(Boolean)
    floor: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # agents, transfers, monitoring,
    # recordings, parties added, missed rings (call_records.floor_json)

    steps: Mapped[list[CallStepRow]] = relationship(order_by="CallStepRow.seq", viewonly=True)
    self_service: Mapped[list[SelfServiceAttemptRow]] = relationship(
        order_by="SelfServiceAttemptRow.seq", viewonly=True)
    queue_visits: Mapped[list[QueueVisitRow]] = relationship(
        order_by="QueueVisitRow.seq", viewonly=True)
    callbacks: Mapped[list[CallbackRow]] = relationship(order_by="CallbackRow.seq", viewonly=True)
    voicemails: Mapped[list[VoicemailRow]] = relationship(order_by="VoicemailRow.seq",
                                                          viewonly=True)
    survey_answers: Mapped[list[SurveyAnswerRow]] = relationship(
        order_by="SurveyAnswerRow.seq", viewonly=True)
    dispositions: Mapped[list[DispositionRow]] = relationship(
        order_by="DispositionRow.seq", viewonly=True)
    tags: Mapped[list[CallTagRow]] = relationship(order_by="CallTagRow.tag", viewonly=True)


class CallStepRow(Base):
    """A node visit (`kind` visit, left_at = next visit or hang-up) or a caller input."""

    __tablename__ = "call_steps"
    # Flow analytics read a period's visits of one flow from this index alone, already in
    # (hour, node, detail, next node) order, so SQLite and PostgreSQL group without a sort.
    __table_args__ = (Index("ix_call_steps_flow_hour", "flow", "hour", "node", "detail",
                            "next_node", "kind", "at", "answered", "contained", "dwell_s",
                            "first_entry"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    node: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(When)
    left_at: Mapped[datetime | None] = mapped_column(When)
    digits: Mapped[str | None] = mapped_column(String(64))
    speech: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    # 0007, flow analytics (ivr/store/flow_analytics.py): what happened at a visit, the next
    # node entered (on entries), the hour (epoch hours of `at`), and copies of the call's flow
    # and result, so a period's figures are one GROUP BY over the index below without a join.
    # The writer rewrites a call's steps with every rebuild, so the copies never go stale.
    detail: Mapped[str | None] = mapped_column(String(200))
    next_node: Mapped[str | None] = mapped_column(String(100))
    first_entry: Mapped[bool | None] = mapped_column(Boolean)
    flow: Mapped[str | None] = mapped_column(String(100))
    hour: Mapped[int | None] = mapped_column(Integer)
    dwell_s: Mapped[float | None] = mapped_column(Float)
    answered: Mapped[bool | None] = mapped_column(Boolean)
    contained: Mapped[bool | None] = mapped_column(Boolean)


class FlowStepRollupRow(Base):
    """Visits of one flow's node in one hour, grouped as the flow report groups them, kept by
    the writer (0011, ivr/store/flow_rollups.py) so a day's report reads thousands of rows,
    not a million steps. `detail` and `next_node` are "" where a step has NULL."""

    __tablename__ = "flow_step_rollups"

    flow: Mapped[str] = mapped_column(String(100), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    node: Mapped[str] = mapped_column(String(100), primary_key=True)
    detail: Mapped[str] = mapped_column(String(200), primary_key=True)
    next_node: Mapped[str] = mapped_column(String(100), primary_key=True)
    visits: Mapped[int] = mapped_column(BigInteger)
    answered: Mapped[int] = mapped_column(BigInteger)  # of them, the call was answered
    contained: Mapped[int] = mapped_column(BigInteger)  # ... contained by self-service
    first_entries: Mapped[int] = mapped_column(BigInteger)  # the call's first entry there
    dwell_s: Mapped[float] = mapped_column(Float)  # time spent, summed


class SelfServiceAttemptRow(Base):
    __tablename__ = "self_service_attempts"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(100))
    task: Mapped[str] = mapped_column(String(100))
    solved: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(When)


class QueueVisitRow(Base):
    __tablename__ = "queue_visits"
    __table_args__ = (Index(None, "queue", "joined_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(64))
    skill: Mapped[str | None] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(When)
    left_at: Mapped[datetime | None] = mapped_column(When)
    result: Mapped[str | None] = mapped_column(String(20))
    wait_s: Mapped[float | None] = mapped_column(Float)
    agent: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(When)
    talk_s: Mapped[float | None] = mapped_column(Float)
    range_low: Mapped[float | None] = mapped_column(Float)  # 0008: the range announced
    range_high: Mapped[float | None] = mapped_column(Float)
    in_range: Mapped[bool | None] = mapped_column(Boolean)  # the wait fell inside it
    hold_count: Mapped[int | None] = mapped_column(Integer)  # 0010: the answering agent's
    hold_s: Mapped[float | None] = mapped_column(Float)  # holds, after-call work, transfer
    after_call_s: Mapped[float | None] = mapped_column(Float)
    transferred: Mapped[bool | None] = mapped_column(Boolean)


class CallbackRow(Base):
    __tablename__ = "callbacks"
    __table_args__ = (UniqueConstraint("call_sid", "callback_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    callback_id: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(40))
    requested_at: Mapped[datetime | None] = mapped_column(When)
    status: Mapped[str] = mapped_column(String(20))
    done_at: Mapped[datetime | None] = mapped_column(When)

    attempts: Mapped[list[CallbackAttemptRow]] = relationship(
        order_by="CallbackAttemptRow.seq", viewonly=True)


class CallbackAttemptRow(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    callback_pk: Mapped[int] = mapped_column(
        Id, ForeignKey("callbacks.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(When)
    result: Mapped[str] = mapped_column(String(20))
    leg_sid: Mapped[str | None] = mapped_column(Sid)
    agent: Mapped[str | None] = mapped_column(String(64))


class VoicemailRow(Base):
    __tablename__ = "voicemails"
    # the unique key leads with call_sid: the lookup by recording SID has its own index
    __table_args__ = (UniqueConstraint("call_sid", "recording_sid"),
                      Index("ix_voicemails_recording_sid", "recording_sid"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    recording_sid: Mapped[str] = mapped_column(Sid)
    url: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None] = mapped_column(Float)
    queue: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(When)
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_confidence: Mapped[float | None] = mapped_column(Float)
    transcribed_at: Mapped[datetime | None] = mapped_column(When)


class SurveyAnswerRow(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("call_sid", "question"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(100))
    answer: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(When)


class AgentWorkRow(Base):
    """0010: what one agent did on one call (ivr/domain/outcome_record.AgentWork): the
    per-agent figures (AHT, hold, transfers) in reports and on the wallboard."""

    __tablename__ = "agent_work"
    __table_args__ = (Index("ix_agent_work_agent_at", "agent", "at"),
                      Index("ix_agent_work_at", "at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(When)  # answered, else the agent's first event
    handled: Mapped[bool] = mapped_column(Boolean)
    talk_s: Mapped[float | None] = mapped_column(Float)
    hold_s: Mapped[float] = mapped_column(Float)
    hold_count: Mapped[int] = mapped_column(Integer)
    after_call_s: Mapped[float | None] = mapped_column(Float)
    transfers: Mapped[int] = mapped_column(Integer)


class DispositionRow(Base):
    """What the agent said the call was about (a code from the wrap-up form) and notes."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = _call_fk()
    seq: Mapped[int] = mapped_column(Integer)
    agent: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(When)


class CallTagRow(Base):
    __tablename__ = "call_tags"

    call_sid: Mapped[str] = mapped_column(
        Sid, ForeignKey("calls.call_sid", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ProcessedEventRow(Base):
    """One applied event: the exactly-once ledger and the raw log records are folded from.

    `error` is set (and the event has no effect) when the payload failed the vocabulary check;
    it is kept here, not dropped, so an operator can see and replay it."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(32))
    call_sid: Mapped[str | None] = mapped_column(Sid, index=True)
    at: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime] = mapped_column(When)
    # a `recording` event's recording SID (data.recording), so /recordings/<sid> finds an
    # agent call's recording by index (migration 0012); NULL for other kinds
    recording_sid: Mapped[str | None] = mapped_column(Sid, index=True)


class FlowVersionRow(Base):
    """One published version of a call flow file (ivr/flows/publishing.py): its full text, who
    published it, why and when. The highest `number` per file is the published one; a rollback
    publishes an old text again as a new number, so the history is never rewritten."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_file", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True, autoincrement=True)
    flow_file: Mapped[str] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(When)


class UserRow(Base):
    """Someone who signs in to the pages (ivr/store/users.py; migrations 0002, 0006).
    `session_version` is bumped to revoke all their sessions (dashboards/sessions.py)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(When)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FollowupTaskRow(Base):
    """A follow-up task: an unhappy or unfinished call someone must act on (migration 0005;
    rules in followup.yaml, opened by the outcome writer through ivr/store/tasks.py).

    One per (rule, call_sid): re-evaluating a call never opens a second. `status` is open,
    in_progress (assigned) or closed; closing needs a `disposition`. Voicemail tasks carry the
    recording and its transcript (`transcript_status` pending, ready or failed). `sms_status`
    tracks the optional outreach text: pending, sending, sent, failed or cancelled (closed
    before it went out; None: no SMS)."""

    __tablename__ = "followup_tasks"
    __table_args__ = (UniqueConstraint("rule", "call_sid"), Index(None, "status", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str | None] = mapped_column(
        Sid, ForeignKey("calls.call_sid", ondelete="SET NULL"), index=True)
    caller: Mapped[str | None] = mapped_column(String(40), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer)
    team: Mapped[str | None] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(When)
    created_at: Mapped[datetime] = mapped_column(When)
    updated_at: Mapped[datetime] = mapped_column(When)
    closed_at: Mapped[datetime | None] = mapped_column(When)
    disposition: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    recording_sid: Mapped[str | None] = mapped_column(Sid)
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_status: Mapped[str | None] = mapped_column(String(20))
    sms: Mapped[str | None] = mapped_column(Text)
    sms_status: Mapped[str | None] = mapped_column(String(20))
    sms_sid: Mapped[str | None] = mapped_column(String(64))
    sms_sent_at: Mapped[datetime | None] = mapped_column(When)
