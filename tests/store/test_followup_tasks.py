"""Follow-up tasks opened by the real outcome writer on SQLite and PostgreSQL: the right task
per call, once, through redelivery; voicemail transcripts; assign, close, overdue; the SMS job
through the real twilio client against the stand-in, sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from rq import Queue, SimpleWorker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.config.settings import Config
from ivr.domain.errors import Conflict
from ivr.outcomes.followup import load_rules_file
from ivr.store import events as ev
from ivr.store import models as m
from ivr.store import tasks
from ivr.store.jobs import FOLLOWUP_QUEUE
from queue_worker.followup import (
    FollowupContext,
    FollowupHook,
    install_followup_context,
    send_task_sms,
)
from queue_worker.outcomes import drain_events

RULES = load_rules_file(Path(__file__).resolve().parents[2] / "followup.yaml")
T0 = datetime.now(UTC).timestamp() - 3600


def publish(redis: redis_lib.Redis, sid: str, caller: str,
            *events: tuple[str, float, dict[str, Any]]) -> None:
    ev.publish_event(redis, "call_started", sid, {"caller": caller, "dialed": "+14155550100",
                                                  "flow": "shop"}, T0, event_id=f"{sid}-start")
    for i, (kind, at, data) in enumerate(events):
        ev.publish_event(redis, kind, sid, data, T0 + at, event_id=f"{sid}-{i}")


def scripted_calls(redis: redis_lib.Redis) -> None:
    publish(redis, "CA-abandon", "+14155550101",
            ("queue_joined", 1, {"queue": "sales"}),
            ("queue_left", 181, {"queue": "sales", "result": "hangup", "wait": 180.0}),
            ("call_ended", 181, {}))
    publish(redis, "CA-survey", "+14155550102",
            ("queue_joined", 1, {"queue": "support"}),
            ("agent_answered", 11, {"queue": "support", "agent": "alice"}),
            ("queue_left", 11, {"queue": "support", "result": "bridged", "wait": 10.0}),
            ("survey_answer", 200, {"question": "satisfaction", "answer": "1", "score": 1}),
            ("survey_answer", 205, {"question": "resolved", "answer": "yes"}),
            ("call_ended", 210, {}))
    publish(redis, "CA-happy", "+14155550103",
            ("queue_joined", 1, {"queue": "support"}),
            ("agent_answered", 11, {"queue": "support", "agent": "dan"}),
            ("survey_answer", 200, {"question": "satisfaction", "answer": "5", "score": 5}),
            ("call_ended", 210, {}))
    publish(redis, "CA-vm", "+14155550104",
            ("voicemail_recorded", 30, {"recording": "RE1", "url": "http://r/RE1",
                                        "duration": 9.0}), ("call_ended", 40, {}))
    publish(redis, "CA-cb", "+14155550105",
            ("callback_requested", 5, {"callback": "cb1", "queue": "billing",
                                       "number": "+14155550105"}),
            ("call_ended", 6, {}),
            ("callback_attempt", 300, {"callback": "cb1", "attempt": 1, "result": "busy"}),
            ("callback_attempt", 600, {"callback": "cb1", "attempt": 2, "result": "no-answer"}),
            ("callback_done", 601, {"callback": "cb1", "result": "gave_up"}))


def task_rows(session: Session) -> set[tuple[str | None, str]]:
    return {(t.call_sid, t.rule) for t in session.scalars(select(m.FollowupTaskRow))}


EXPECTED = {("CA-abandon", "abandoned_after_wait"), ("CA-survey", "low_satisfaction"),
            ("CA-vm", "voicemail"), ("CA-cb", "callback_failed")}


def test_writer_opens_one_task_per_rule_and_call_through_redelivery(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    hook = FollowupHook(RULES, Queue(FOLLOWUP_QUEUE, connection=redis))
    scripted_calls(redis)
    with monkeypatch.context() as patch:  # the writer "crashes" after commit, before XACK
        patch.setattr(ev, "ack", lambda *a, **k: None)
        first = drain_events(redis, session_factory, hooks=[hook])
    again = drain_events(redis, session_factory, hooks=[hook], claim_idle_ms=0)
    assert first.written == again.duplicates == first.handled > 20
    assert again.written == 0
    scripted_calls(redis)  # a publisher retried every event (same ids)
    assert drain_events(redis, session_factory, hooks=[hook]).written == 0
    ev.publish_event(redis, "tag", "CA-abandon", {"tag": "vip"}, T0 + 500)  # new event, re-fold
    assert drain_events(redis, session_factory, hooks=[hook]).written == 1
    with session_factory() as session:
        assert task_rows(session) == EXPECTED
        abandon = tasks.list_tasks(session, caller="+14155550101")[0]
        assert abandon.reason == "Hung up after waiting 3 min in sales: call back"
        assert (abandon.team, abandon.priority, abandon.status) == ("sales", 2, "open")
        assert abandon.sms_status == "pending"
        assert [t.rule for t in tasks.list_tasks(session, status="open")] == [
            "callback_failed", "abandoned_after_wait", "low_satisfaction", "voicemail"]
    jobs = Queue(FOLLOWUP_QUEUE, connection=redis).job_ids
    assert jobs == [f"followup-sms-{abandon.id}"]  # one text, queued after the commit


def test_voicemail_task_gets_its_transcript_or_stays_without_one(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    hook = FollowupHook(RULES)
    for sid, rec in (("CA-ok", "RE-ok"), ("CA-bad", "RE-bad")):
        publish(redis, sid, "+1415555020" + sid[-1], ("voicemail_recorded", 30, {
            "recording": rec, "url": f"http://r/{rec}"}))
    drain_events(redis, session_factory, hooks=[hook])
    with session_factory() as session:
        assert {t.transcript_status for t in session.scalars(select(m.FollowupTaskRow))} == {
            "pending"}
    ev.publish_event(redis, "transcript_ready", "CA-ok", {"recording": "RE-ok",
                                                          "text": "about my order"}, T0 + 60)
    ev.publish_event(redis, "transcript_failed", "CA-bad", {"recording": "RE-bad",
                                                            "code": "bad_audio"}, T0 + 60)
    drain_events(redis, session_factory, hooks=[hook])
    with session_factory() as session:
        found = {t.call_sid: (t.rule, t.recording_sid, t.transcript_status, t.transcript)
                 for t in session.scalars(select(m.FollowupTaskRow))}
    assert found == {"CA-ok": ("voicemail", "RE-ok", "ready", "about my order"),
                     "CA-bad": ("voicemail", "RE-bad", "failed", None)}


def test_assign_close_and_overdue(redis: redis_lib.Redis,
                                  session_factory: sessionmaker[Session]) -> None:
    scripted_calls(redis)
    drain_events(redis, session_factory, hooks=[FollowupHook(RULES)])
    now = datetime.now(UTC)
    with session_factory() as session, session.begin():
        all_tasks = {t.rule: t for t in tasks.list_tasks(session)}
        vm, cb = all_tasks["voicemail"], all_tasks["callback_failed"]
        assert not tasks.is_overdue(cb, now)
        assert tasks.list_tasks(session, overdue_at=now + timedelta(hours=1, minutes=1)) == [cb]
        tasks.assign_task(session, vm.id, "alice", by="sup", now=now)
        with pytest.raises(ValueError, match="disposition"):
            tasks.close_task(session, cb.id, " ", by="bob")
        tasks.close_task(session, cb.id, "called_back", "reached her at work", by="bob")
        with pytest.raises(Conflict):
            tasks.close_task(session, cb.id, "again", by="bob")
    with session_factory() as session:
        assert [t.rule for t in tasks.list_tasks(session, owner="alice")] == ["voicemail"]
        assert tasks.get_task(session, vm.id).status == "in_progress"
        closed = tasks.get_task(session, cb.id)
        assert (closed.status, closed.disposition, closed.owner) == ("closed", "called_back",
                                                                     "bob")
        assert "closed by bob: called_back: reached her at work" in (closed.notes or "")
        assert tasks.task_json(closed, now + timedelta(days=9))["overdue"] is False
        assert {t.rule for t in tasks.open_tasks_for_caller(session, "+14155550105")} == set()
        assert len(tasks.list_tasks(session, status="open")) == 3
        assert session.scalar(select(func.count()).select_from(m.FollowupTaskRow)) == 4


def test_sms_job_sends_once_through_the_twilio_client(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    from devkit.twilio_standin.standin import start_server
    from devkit.twilio_standin.standin_state import StandInConfig
    from ivr.phone.call_control import build_client

    server, standin, api_base = start_server(StandInConfig())
    try:
        client = build_client(Config(twilio_api_base=api_base))
        install_followup_context(redis, FollowupContext(session_factory, client, "+15005550006"))
        rq = Queue(FOLLOWUP_QUEUE, connection=redis)
        scripted_calls(redis)
        drain_events(redis, session_factory, hooks=[FollowupHook(RULES, rq)])
        SimpleWorker([rq], connection=redis).work(burst=True)
        with session_factory() as session:
            (task,) = tasks.list_tasks(session, caller="+14155550101")
        rq.enqueue(send_task_sms, task.id)  # a second run of the same job sends nothing
        SimpleWorker([rq], connection=redis).work(burst=True)
        publish(redis, "CA-abandon-2", "+14155550109",  # closed before its text goes out
                ("queue_joined", 1, {"queue": "sales"}),
                ("queue_left", 181, {"queue": "sales", "result": "hangup", "wait": 180.0}))
        drain_events(redis, session_factory, hooks=[FollowupHook(RULES, rq)])
        with session_factory() as session, session.begin():
            (early,) = tasks.list_tasks(session, caller="+14155550109")
            tasks.close_task(session, early.id, "called_back", by="sue")
        SimpleWorker([rq], connection=redis).work(burst=True)
    finally:
        server.shutdown()
    (message,) = standin.messages
    assert (message["to"], message["from"]) == ("+14155550101", "+15005550006")
    assert message["body"].startswith("Sorry we missed you")
    with session_factory() as session:
        sent = tasks.get_task(session, task.id)
        assert (sent.sms_status, sent.sms_sid) == ("sent", message["sid"])
        assert sent.sms_sent_at is not None
        assert tasks.get_task(session, early.id).sms_status == "cancelled"


def test_repeat_caller_and_self_service_rules_read_the_database(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    hook = FollowupHook(RULES)
    for i, start in enumerate((-30 * 3600, -5 * 3600, -3600, 0)):  # the first is a day too old
        ev.publish_event(redis, "call_started", f"CA-r{i}", {
            "caller": "+14155550177", "dialed": "+14155550100", "flow": "shop"}, T0 + start)
        drain_events(redis, session_factory, hooks=[hook])  # one call after the other
    publish(redis, "CA-ss", "+14155550178",
            ("self_service", 5, {"node": "n", "task": "order_status", "solved": False}),
            ("self_service", 9, {"node": "n", "task": "order_status", "solved": False}))
    drain_events(redis, session_factory, hooks=[hook])
    with session_factory() as session:
        assert task_rows(session) == {("CA-r3", "repeat_caller")}  # not yet: CA-ss is live
    ev.publish_event(redis, "call_ended", "CA-ss", {}, T0 + 20)
    drain_events(redis, session_factory, hooks=[hook])
    with session_factory() as session:
        assert task_rows(session) == {("CA-r3", "repeat_caller"),
                                      ("CA-ss", "self_service_struggle")}
        (repeat,) = tasks.list_tasks(session, caller="+14155550177")
        assert repeat.reason == "Called 3 times within 24 h"


def test_the_writer_refuses_to_start_on_a_broken_rules_file(
        redis_url: str, tmp_path: Path, db_url: str) -> None:
    from ivr.domain.errors import FlowErrors
    from queue_worker.outcomes import start_event_writer

    broken = tmp_path / "followup.yaml"
    broken.write_text("rules:\n  late:\n    kind: voicemail\n    reason: x\n    due: soon\n")
    config = Config(redis_url=redis_url, database_url=db_url, instance_dir=tmp_path,
                    followup_file=broken)
    with pytest.raises(FlowErrors, match=f"{broken}:5: rule late: due: soon is not a duration"):
        start_event_writer(config, burst=True)
    ok = Config(redis_url=redis_url, database_url=db_url, instance_dir=tmp_path,
                followup_file=tmp_path / "absent.yaml")
    assert start_event_writer(ok, burst=True) is not None  # no file: no tasks, still writes
