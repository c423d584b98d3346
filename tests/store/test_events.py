"""Outcome events end to end on real Redis and SQL: publish -> drain -> rows, exactly once,
through redelivery and a database outage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.outcome_events import BadEvent
from ivr.store import events as ev
from ivr.store import keys
from ivr.store import models as m
from ivr.store.db import make_engine, make_session_factory
from queue_worker.outcomes import drain_events

T0 = 1_700_000_000.0
DOWN_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"


def script(call: str, caller: str) -> list[tuple[str, float, dict[str, Any]]]:
    """(kind, seconds after T0, data) for three kinds of call, keyed by call sid."""
    start = ("call_started", 0, {"caller": caller, "dialed": "+15559990000", "flow": "main",
                                 "flow_version": "v3"})
    if call == "CA-answered":
        return [start, ("node_visited", 1, {"node": "welcome"}),
                ("node_visited", 4, {"node": "menu"}),
                ("input", 7, {"node": "menu", "digits": "1"}),
                ("queue_joined", 8, {"queue": "support", "skill": "support"}),
                ("queue_left", 38, {"queue": "support", "result": "bridged", "wait": 30.0}),
                ("agent_answered", 39, {"queue": "support", "agent": "alice"}),
                ("call_ended", 159, {"duration": 159.0, "status": "completed"}),
                ("disposition", 170, {"agent": "alice", "code": "billing", "notes": "ok",
                                      "tags": ["refund"]}),
                ("survey_answer", 165, {"question": "csat", "answer": "5", "score": 5})]
    if call == "CA-abandoned":
        return [start, ("node_visited", 1, {"node": "menu"}),
                ("input", 3, {"node": "menu", "speech": "sales", "confidence": 0.71}),
                ("queue_joined", 4, {"queue": "sales", "skill": "sales"}),
                ("queue_left", 94, {"queue": "sales", "result": "hangup", "wait": 90.0}),
                ("call_ended", 94, {"duration": 94.0})]
    return [start, ("self_service", 5, {"node": "bal", "task": "balance", "solved": False}),
            ("queue_joined", 6, {"queue": "billing"}),
            ("queue_left", 66, {"queue": "billing", "result": "callback", "wait": 60.0}),
            ("callback_requested", 67, {"callback": "cb-9", "queue": "billing",
                                        "number": caller}),
            ("voicemail_recorded", 70, {"recording": "RE9", "url": "https://r/RE9",
                                        "duration": 8.0}),
            ("call_ended", 80, {}),
            ("callback_attempt", 600, {"callback": "cb-9", "attempt": 1, "result": "busy",
                                       "leg_sid": "CA-leg1"}),
            ("transcript_ready", 90, {"recording": "RE9", "text": "please call back"}),
            ("callback_attempt", 900, {"callback": "cb-9", "attempt": 2,
                                       "result": "answered", "leg_sid": "CA-leg2",
                                       "agent": "bob"}),
            ("callback_done", 1000, {"callback": "cb-9", "result": "completed"})]


CALLS = {"CA-answered": "+15550000001", "CA-abandoned": "+15550000002",
         "CA-callback": "+15550000003"}


def publish_all(redis: redis_lib.Redis) -> int:
    """Interleave the three calls' events as a live system would publish them."""
    scripted = sorted(((t, call, kind, data) for call, caller in CALLS.items()
                       for kind, t, data in script(call, caller)), key=lambda e: e[0])
    for t, call, kind, data in scripted:
        ev.publish_event(redis, kind, call, data, T0 + t)
    return len(scripted)


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=value.tzinfo or UTC)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def counts(session: Session) -> dict[str, int]:
    tables = (m.CallRow, m.CallStepRow, m.QueueVisitRow, m.CallbackRow, m.CallbackAttemptRow,
              m.VoicemailRow, m.SurveyAnswerRow, m.DispositionRow, m.CallTagRow,
              m.ProcessedEventRow)
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in tables}


EXPECTED_COUNTS = {"calls": 3, "call_steps": 5, "queue_visits": 3, "callbacks": 1,
                   "callback_attempts": 2, "voicemails": 1, "survey_answers": 1,
                   "dispositions": 1, "call_tags": 1, "processed_events": 27}


def check_rows(session: Session) -> None:
    assert counts(session) == EXPECTED_COUNTS
    calls = {c.call_sid: c for c in session.scalars(select(m.CallRow))}
    a, b, c = calls["CA-answered"], calls["CA-abandoned"], calls["CA-callback"]
    assert (a.caller, a.flow, a.flow_version, a.queue, a.wait_s, a.agent, a.talk_s) == (
        "+15550000001", "main", "v3", "support", 30.0, "alice", 120.0)
    assert (a.answered, a.abandoned, a.outcome, utc(a.started_at), utc(a.ended_at)) == (
        True, False, "answered", at(0), at(159))
    assert [(s.kind, s.node, s.digits, utc(s.at)) for s in a.steps] == [
        ("visit", "welcome", None, at(1)), ("visit", "menu", None, at(4)),
        ("input", "menu", "1", at(7))]
    assert [(d.code, d.notes) for d in a.dispositions] == [("billing", "ok")]
    assert [t.tag for t in a.tags] == ["refund"]
    assert [(s.question, s.score) for s in a.survey_answers] == [("csat", 5)]
    assert (b.answered, b.abandoned, b.wait_s, b.talk_s, b.outcome, b.queue) == (
        False, True, 90.0, None, "abandoned", "sales")
    assert [(s.speech, s.confidence) for s in b.steps if s.kind == "input"] == [("sales", 0.71)]
    assert (c.outcome, c.self_service_contained, c.wait_s, c.duration_s) == (
        "callback", False, 60.0, 80.0)
    [cb] = c.callbacks
    assert (cb.callback_id, cb.status, cb.number) == ("cb-9", "completed", "+15550000003")
    assert [(x.attempt, x.result, x.leg_sid, x.agent) for x in cb.attempts] == [
        (1, "busy", "CA-leg1", None), (2, "answered", "CA-leg2", "bob")]
    [vm] = c.voicemails
    assert (vm.url, vm.transcript, vm.duration_s) == ("https://r/RE9", "please call back", 8.0)
    assert [v.result for v in c.queue_visits] == ["callback"]


def test_publish_validates_and_stays_small(redis: redis_lib.Redis) -> None:
    with pytest.raises(BadEvent, match="field 'node' is required"):
        ev.publish_event(redis, "node_visited", "CA1", {}, T0)
    with pytest.raises(BadEvent, match="unknown event kind"):
        ev.publish_event(redis, "node_visit", "CA1", {"node": "x"}, T0)
    assert redis.xlen(keys.events_stream()) == 0
    event_id = ev.publish_event(redis, "call_started", "CA" + "f" * 32, {
        "caller": "+15551234567", "dialed": "+15557654321", "flow": "main",
        "flow_version": "2024-05-01T12:00:00Z-abcdef"}, T0)
    entries: Any = redis.xrange(keys.events_stream())
    [(_sid, fields)] = entries
    assert fields[b"id"] == event_id.encode()
    assert sum(len(k) + len(v) for k, v in fields.items()) < 300


def test_publish_on_a_pipeline_sends_nothing_until_execute(redis: redis_lib.Redis) -> None:
    pipe = redis.pipeline()
    ev.publish_event(redis, "tag", "CA1", {"tag": "vip"}, T0, pipeline=pipe)
    assert redis.xlen(keys.events_stream()) == 0
    pipe.execute()
    assert redis.xlen(keys.events_stream()) == 1


def test_publish_drain_writes_each_call(redis: redis_lib.Redis,
                                        session_factory: sessionmaker[Session]) -> None:
    total = publish_all(redis)
    result = drain_events(redis, session_factory, batch=7)
    assert (result.written, result.duplicates, result.failed, result.unavailable) == (
        total, 0, 0, None)
    assert ev.pending_count(redis) == 0
    with session_factory() as session:
        check_rows(session)


def test_max_events_takes_only_that_many(redis: redis_lib.Redis,
                                         session_factory: sessionmaker[Session]) -> None:
    total = publish_all(redis)
    assert drain_events(redis, session_factory, max_events=5).written == 5
    assert drain_events(redis, session_factory).written == total - 5
    with session_factory() as session:
        check_rows(session)


def test_redelivery_after_a_crash_before_ack_writes_once(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    total = publish_all(redis)
    with monkeypatch.context() as patch:  # the writer dies after each commit, before XACK
        patch.setattr(ev, "ack", lambda *args, **kwargs: None)
        assert drain_events(redis, session_factory, consumer="w1").written == total
    assert ev.pending_count(redis) == total
    again = drain_events(redis, session_factory, consumer="w2", claim_idle_ms=0)
    assert (again.written, again.duplicates) == (0, total)
    assert ev.pending_count(redis) == 0
    with session_factory() as session:
        check_rows(session)


def test_a_republished_event_id_is_written_once(redis: redis_lib.Redis,
                                                session_factory: sessionmaker[Session]) -> None:
    for _ in range(2):  # the publisher retried after a timeout
        ev.publish_event(redis, "node_visited", "CA1", {"node": "menu"}, T0, event_id="fixed")
    result = drain_events(redis, session_factory)
    assert (result.written, result.duplicates) == (1, 1)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(m.CallStepRow)) == 1


def test_database_down_keeps_events_pending_then_writes_each_once(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    total = publish_all(redis)
    down_engine = make_engine(DOWN_URL)
    try:
        down = drain_events(redis, make_session_factory(down_engine), consumer="w1")
    finally:
        down_engine.dispose()
    assert down.unavailable is not None
    assert down.handled == 0
    assert "127.0.0.1" in down.unavailable or "refused" in down.unavailable.lower()
    delivered = ev.pending_count(redis)
    assert 0 < delivered <= total  # what was read stays pending; the rest was never read
    assert ev.trim_processed(redis) == 0  # nothing pending or unread is ever trimmed
    assert redis.xlen(keys.events_stream()) == total
    # The database is back: a writer (another process here) claims the pending entries once
    # they have been idle for claim_idle_ms, then reads the rest.
    up = drain_events(redis, session_factory, consumer="w2", claim_idle_ms=0)
    assert (up.written, up.duplicates, up.failed, up.unavailable) == (total, 0, 0, None)
    assert ev.pending_count(redis) == 0
    with session_factory() as session:
        check_rows(session)
    assert ev.trim_processed(redis) == total
    assert redis.xlen(keys.events_stream()) == 0


def test_pending_entries_wait_for_the_idle_timeout(redis: redis_lib.Redis,
                                                   session_factory: sessionmaker[Session],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ev.publish_event(redis, "node_visited", "CA1", {"node": "menu"}, T0)
    with monkeypatch.context() as patch:
        patch.setattr(ev, "ack", lambda *args, **kwargs: None)
        drain_events(redis, session_factory, consumer="w1")
    fresh = drain_events(redis, session_factory, consumer="w2", claim_idle_ms=60_000)
    assert fresh.handled == 0
    assert ev.pending_count(redis) == 1


def test_malformed_entries_are_recorded_rejected_and_acked(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    stream = keys.events_stream()
    redis.xadd(stream, {"id": "bad1", "kind": "queue_left", "call": "CA1", "at": str(T0),
                        "data": '{"queue": "q"}'})
    redis.xadd(stream, {"id": "bad2", "kind": "node_visited", "call": "CA1", "at": "soon",
                        "data": "{}"})
    ev.publish_event(redis, "node_visited", "CA1", {"node": "menu"}, T0 + 1)
    result = drain_events(redis, session_factory)
    assert (result.written, result.rejected, result.failed) == (1, 2, 0)
    assert ev.pending_count(redis) == 0
    with session_factory() as session:
        rows = session.execute(select(m.ProcessedEventRow.event_id, m.ProcessedEventRow.error)
                               .where(m.ProcessedEventRow.error.is_not(None))).all()
        errors = {event_id: str(error) for event_id, error in rows}
        assert set(errors) == {"bad1", "bad2"}
        assert "'result' is required" in errors["bad1"]
        call = session.get(m.CallRow, "CA1")
        assert call is not None
        assert [s.node for s in call.steps] == ["menu"]


def test_trim_keeps_unacked_and_unread_entries(redis: redis_lib.Redis,
                                               session_factory: sessionmaker[Session],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert ev.trim_processed(redis) == 0  # no stream, no group
    for i in range(4):
        ev.publish_event(redis, "node_visited", "CA1", {"node": f"n{i}"}, T0 + i)
    assert ev.trim_processed(redis) == 0  # no group has read anything yet
    drain_events(redis, session_factory, max_events=2)
    with monkeypatch.context() as patch:
        patch.setattr(ev, "ack", lambda *args, **kwargs: None)
        drain_events(redis, session_factory, max_events=1)
    assert ev.trim_processed(redis) == 2  # the third is pending, the fourth unread
    assert ev.backlog(redis) == 2
    assert drain_events(redis, session_factory, claim_idle_ms=0).handled == 2
    assert ev.trim_processed(redis) == 2


def test_overlong_values_are_cut_to_fit_and_overlong_ids_rejected(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(BadEvent, match="1 to 64 characters"):
        ev.publish_event(redis, "tag", "CA" * 40, {"tag": "x"}, T0)
    ev.publish_event(redis, "node_visited", "CA1", {"node": "n" * 500}, T0)
    ev.publish_event(redis, "tag", "CA1", {"tag": "t" * 100}, T0 + 1)
    ev.publish_event(redis, "tag", "CA1", {"tag": "t" * 90}, T0 + 2)  # same after the cut
    ev.publish_event(redis, "input", "CA1", {"node": "ask", "speech": "s" * 3000}, T0 + 3)
    redis.xadd(keys.events_stream(), {"id": "long", "kind": "tag", "call": "C" * 80,
                                      "at": str(T0), "data": '{"tag": "x"}'})
    result = drain_events(redis, session_factory)
    assert (result.written, result.rejected, result.failed) == (4, 1, 0)
    with session_factory() as session:
        call = session.get(m.CallRow, "CA1")
        assert call is not None
        assert [len(s.node) for s in call.steps] == [100, 3]
        assert [len(s.speech or "") for s in call.steps] == [0, 3000]
        assert [t.tag for t in call.tags] == ["t" * 64]
        assert session.get(m.ProcessedEventRow, "long") is not None
