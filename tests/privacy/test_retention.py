"""The retention policy on SQLite and PostgreSQL: recordings go after their period, personal
data after its own, the figures reports need stay, and a second run (or a re-fold of the
call from its events) brings nothing back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.privacy import RetentionPolicy
from ivr.outcomes.retention import apply_retention
from ivr.store import events as ev
from ivr.store import models as m
from ivr.store.call_records import rebuild_call
from queue_worker.outcomes import drain_events

DAY = 86_400.0
NOW = 1_800_000_000.0
CALLER, OTHER = "+14155550123", "+14155550177"
SECRETS = (CALLER, OTHER, "10000008", "order status", "my account is overdue",
           "lives at 12 Main Street", "https://api.example/Recordings/", "thanks, 4 stars")


def call_events(sid: str, started: float, recording: str) -> list[tuple[str, float, dict]]:
    return [
        ("call_started", 0, {"caller": CALLER, "dialed": "+15550002000", "flow": "shop"}),
        ("node_visited", 1, {"node": "menu"}),
        ("input", 2, {"node": "menu", "digits": "10000008"}),
        ("input", 3, {"node": "menu", "speech": "order status", "confidence": 0.9}),
        ("queue_joined", 4, {"queue": "support", "skill": "support"}),
        ("queue_left", 64, {"queue": "support", "result": "bridged", "wait": 60.0}),
        ("agent_answered", 65, {"queue": "support", "agent": "alice"}),
        ("callback_requested", 66, {"callback": f"cb-{sid}", "queue": "support",
                                    "number": OTHER}),
        ("voicemail_recorded", 70, {"recording": recording, "duration": 9.0,
                                    "url": f"https://api.example/Recordings/{recording}"}),
        ("transcript_ready", 80, {"recording": recording, "text": "my account is overdue",
                                  "recording_url": f"https://api.example/Recordings/{recording}",
                                  "words": [{"text": "overdue", "start": 1.0, "end": 1.5}]}),
        ("survey_answer", 90, {"question": "satisfaction", "answer": "4", "score": 4}),
        ("sms_survey_sent", 91, {"question": "resolved", "message": f"SM{sid}", "to": CALLER,
                                 "body": "Reply 1 or 2"}),
        ("survey_answer", 92, {"question": "resolved", "answer": "yes", "message": f"SMin{sid}",
                               "text": "thanks, 4 stars", "channel": "sms"}),
        ("disposition", 185, {"agent": "alice", "code": "billing",
                              "notes": "lives at 12 Main Street"}),
        ("call_ended", 180, {"duration": 180.0, "status": "completed"}),
    ]


class Deleter:
    """The Twilio port as a list (the REST version runs against the stand-in in
    test_retention_job.py); `fail` names sids Twilio refuses for now."""

    def __init__(self) -> None:
        self.recordings: list[str] = []
        self.messages: list[str] = []
        self.fail: set[str] = set()

    def delete_recording(self, sid: str) -> None:
        if sid in self.fail:
            raise ConnectionError(f"Twilio unreachable deleting {sid}")
        self.recordings.append(sid)

    def delete_message(self, sid: str) -> None:
        self.messages.append(sid)


@pytest.fixture
def loaded(redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> dict[str, float]:
    """Three calls: 100 days old, 40 days old and 1 day old."""
    ages = {"CAold": 100, "CAmid": 40, "CAnew": 1}
    for sid, days in ages.items():
        start = NOW - days * DAY
        for kind, offset, data in call_events(sid, start, f"RE{sid}"):
            ev.publish_event(redis, kind, sid, data, start + offset)
    result = drain_events(redis, session_factory)
    assert result.written == 3 * 15
    when = datetime.fromtimestamp(NOW - 99 * DAY, UTC)
    with session_factory() as session, session.begin():
        session.add(m.FollowupTaskRow(
            call_sid="CAold", caller=CALLER, rule="voicemail", priority=2, status="closed",
            reason=f"Voicemail from {CALLER} in support", due_at=when, created_at=when,
            updated_at=when, notes="lives at 12 Main Street", recording_sid="RECAold",
            transcript="my account is overdue", sms="Reply 1 or 2", sms_status="sent",
            sms_sid="SMtaskCAold"))
    return ages


def snapshot(session: Session, sid: str) -> dict[str, Any]:
    call = session.get(m.CallRow, sid)
    return {
        "caller": call.caller, "wait": call.wait_s, "talk": call.talk_s,
        "outcome": call.outcome, "answered": call.answered, "queue": call.queue,
        "agent": call.agent, "flow": call.flow, "duration": call.duration_s,
        "nodes": [s.node for s in call.steps],
        "inputs": [(s.digits, s.speech) for s in call.steps if s.kind == "input"],
        "voicemail": [(v.recording_sid, v.url, v.transcript, v.duration_s)
                      for v in call.voicemails],
        "callback": [c.number for c in call.callbacks],
        "survey": sorted((a.question, a.answer, a.score) for a in call.survey_answers),
        "notes": [d.notes for d in call.dispositions],
    }


def event_text(session: Session, sid: str) -> str:
    rows = session.execute(select(m.ProcessedEventRow.data).where(
        m.ProcessedEventRow.call_sid == sid)).scalars()
    return json.dumps(list(rows))


def test_recordings_then_personal_data_go_and_figures_stay(
        loaded, redis: redis_lib.Redis, session_factory: sessionmaker[Session]):
    with session_factory() as session:
        before = {sid: snapshot(session, sid) for sid in loaded}
    deleter, policy = Deleter(), RetentionPolicy(personal_days=90, recording_days=30)

    dry = apply_retention(session_factory, deleter, policy, NOW, dry_run=True)
    assert (dry.recordings_deleted, dry.calls_redacted) == (2, 1)
    assert deleter.recordings == []
    with session_factory() as session:
        assert {sid: snapshot(session, sid) for sid in loaded} == before

    report = apply_retention(session_factory, deleter, policy, NOW)
    assert (report.recordings_deleted, report.calls_redacted, report.messages_deleted) == (
        2, 1, 3)
    assert sorted(deleter.recordings) == ["RECAmid", "RECAold"]
    assert sorted(deleter.messages) == ["SMCAold", "SMinCAold", "SMtaskCAold"]
    with session_factory() as session:
        old, mid, new = (snapshot(session, sid) for sid in ("CAold", "CAmid", "CAnew"))
        assert new == before["CAnew"]                                 # 1 day: untouched
        assert mid == {**before["CAmid"], "voicemail": [("RECAmid", None,
                                                         "my account is overdue", 9.0)]}
        figures = ("wait", "talk", "outcome", "answered", "queue", "agent", "flow",
                   "duration", "nodes", "survey")
        assert {k: old[k] for k in figures} == {k: before["CAold"][k] for k in figures}
        assert old["caller"] is None
        assert old["inputs"] == [(None, None), (None, None)]
        assert old["voicemail"] == [("RECAold", None, None, 9.0)]
        assert old["callback"] == [None]
        assert old["notes"] == [None]
        logged = event_text(session, "CAold")
        assert [s for s in SECRETS if s in logged] == []
        assert "SMCAold" in logged                                   # sids are not personal
        assert all(s in event_text(session, "CAnew") for s in SECRETS[:4])
        (task,) = session.execute(select(m.FollowupTaskRow)).scalars()
        assert (task.caller, task.notes, task.transcript, task.sms) == (None,) * 4
        assert task.reason == "Voicemail from (number removed) in support"
        assert (task.recording_sid, task.sms_sid, task.status) == (
            "RECAold", "SMtaskCAold", "closed")
        rebuild_call(session, "CAold")                               # a re-fold: still clean
        assert snapshot(session, "CAold") == old
    again = apply_retention(session_factory, deleter, policy, NOW)
    assert (again.recordings_deleted, again.calls_redacted, again.messages_deleted) == (0, 0, 0)
    ev.publish_event(redis, "disposition", "CAold", {"agent": "bob", "code": "late",  # late
                     "notes": f"rang {CALLER} again"}, NOW - 99 * DAY)
    drain_events(redis, session_factory)
    with session_factory() as session:
        assert snapshot(session, "CAold")["notes"] == [None, f"rang {CALLER} again"]
    late = apply_retention(session_factory, deleter, policy, NOW)
    assert late.calls_redacted == 1
    with session_factory() as session:
        assert snapshot(session, "CAold")["notes"] == [None, None]
        assert CALLER not in event_text(session, "CAold")
    assert apply_retention(session_factory, deleter, policy, NOW).calls_redacted == 0


def test_zero_days_keeps_forever_and_a_recording_twilio_kept_holds_its_call(
        loaded, session_factory: sessionmaker[Session]):
    deleter = Deleter()
    forever = apply_retention(session_factory, deleter, RetentionPolicy(0, 0), NOW)  # 0 days
    assert (forever.recordings_deleted, forever.calls_redacted) == (0, 0)
    deleter.fail.add("RECAold")
    policy = RetentionPolicy(personal_days=90, recording_days=30)
    first = apply_retention(session_factory, deleter, policy, NOW)
    assert (first.recordings_deleted, first.recordings_failed) == (1, 1)
    assert (first.calls_redacted, first.calls_waiting) == (0, 1)
    with session_factory() as session:
        assert snapshot(session, "CAold")["voicemail"][0][1].endswith("RECAold")  # URL kept
        assert snapshot(session, "CAold")["caller"] == CALLER
    deleter.fail.clear()
    second = apply_retention(session_factory, deleter, policy, NOW)
    assert (second.recordings_deleted, second.calls_redacted) == (1, 1)
    with session_factory() as session:
        assert snapshot(session, "CAold")["caller"] is None
