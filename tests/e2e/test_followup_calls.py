"""Follow-up tasks from real calls, end to end: the app over HTTP, the Twilio stand-in playing
callers, routing, transcription and SMS jobs run by RQ, and the outcome writer with the
follow-up hook folding the events into SQLite or PostgreSQL. Each scenario is a call a new
user would place; the assertions read the tasks table.

followup.yaml is the shipped one, except that the abandon threshold is 5 s instead of 60 s:
the app times the wait by the wall clock while the stand-in runs hold music 30 times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ivr.config.settings import REPO_ROOT
from ivr.outcomes.followup import load_rules_file
from ivr.phone.call_control import build_client
from ivr.store import events as ev
from ivr.store import keys
from ivr.store import models as m
from ivr.store.db import make_engine, make_session_factory, upgrade_database
from ivr.store.jobs import FOLLOWUP_QUEUE, TRANSCRIPTION_QUEUE
from queue_worker.followup import FollowupContext, FollowupHook, install_followup_context
from queue_worker.outcomes import drain_events
from tests.e2e.conftest import Live
from tests.store.conftest import db_url, pg_schema_url, pg_server_url  # noqa: F401
from tests.transcription.conftest import ORDER_SENTENCE, speak  # noqa: F401


@dataclass
class Centre:
    live: Live
    sessions: sessionmaker[Session]
    hook: FollowupHook

    def settle(self) -> None:
        """Run what the worker would: transcription and SMS jobs, and the outcome writer."""
        redis = self.live.redis
        drain_events(redis, self.sessions, hooks=[self.hook])
        SimpleWorker([Queue(TRANSCRIPTION_QUEUE, connection=redis)],
                     connection=redis).work(burst=True, logging_level="WARNING")
        drain_events(redis, self.sessions, hooks=[self.hook])
        SimpleWorker([Queue(FOLLOWUP_QUEUE, connection=redis)],
                     connection=redis).work(burst=True, logging_level="WARNING")

    def tasks(self) -> dict[str, list[m.FollowupTaskRow]]:
        with self.sessions() as session:
            rows = session.scalars(select(m.FollowupTaskRow).order_by(m.FollowupTaskRow.id)).all()
        out: dict[str, list[m.FollowupTaskRow]] = {}
        for row in rows:
            out.setdefault(row.call_sid or "", []).append(row)
        return out

    def rules_of(self, call_sid: str) -> list[str]:
        return [t.rule for t in self.tasks().get(call_sid, [])]


@pytest.fixture
def centre(live: Live, db_url: str, tmp_path: Path,  # noqa: F811
           monkeypatch: pytest.MonkeyPatch) -> Centre:
    for name in ("IVR_TRANSCRIBER", "IVR_SPEECH_ENDPOINT", "GOOGLE_APPLICATION_CREDENTIALS",
                 "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # the offline engine, unauthenticated fetch
    rules = tmp_path / "followup.yaml"
    rules.write_text((REPO_ROOT / "followup.yaml").read_text().replace("min_wait: 60s",
                                                                      "min_wait: 5s"))
    upgrade_database(db_url)
    sessions = make_session_factory(make_engine(db_url))
    client = build_client(live.app.config["IVR"])  # the real twilio client, to the stand-in
    install_followup_context(live.redis, FollowupContext(sessions, client, "+15005550006"))
    hook = FollowupHook(load_rules_file(rules), Queue(FOLLOWUP_QUEUE, connection=live.redis))
    return Centre(live, sessions, hook)


# The main scenario runs on SQLite and PostgreSQL; the others on SQLite, to keep the suite
# quick (tests/store/test_followup_tasks.py covers every rule's SQL on both).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def finished(*legs: Any) -> Callable[[], bool]:
    return lambda: all(leg.completed for leg in legs)


def test_long_abandon_opens_a_task_and_texts_the_caller_once(
        centre: Centre, monkeypatch: pytest.MonkeyPatch):
    live = centre.live
    long_wait = live.call("hold 20; hangup", from_="+14155550131")  # about 10 s in line
    short_wait = live.call("hangup", from_="+14155550132")  # hangs up at once in line
    live.run_until(finished(long_wait, short_wait))
    with monkeypatch.context() as patch:  # the writer dies after committing, before its XACK
        patch.setattr(ev, "ack", lambda *a, **k: None)
        drain_events(live.redis, centre.sessions, hooks=[centre.hook])
    centre.settle()  # the same entries are delivered again, then the SMS job runs
    drain_events(live.redis, centre.sessions, hooks=[centre.hook], claim_idle_ms=0)
    tasks = centre.tasks()
    assert set(tasks) == {long_wait.call_sid}
    (task,) = tasks[long_wait.call_sid]
    assert task.rule == "abandoned_after_wait"
    assert task.reason.startswith("Hung up after waiting ")
    assert task.reason.endswith(" in support: call back")
    assert (task.team, task.priority, task.caller) == ("support", 2, "+14155550131")
    assert task.status == "open"
    (sms,) = live.standin.messages
    assert (sms["to"], sms["from"]) == ("+14155550131", "+15005550006")
    assert sms["body"].startswith("Sorry we missed you at Acme Outfitters.")
    assert (task.sms_status, task.sms_sid) == ("sent", sms["sid"])


@sqlite_only
def test_unhappy_survey_opens_tasks_and_a_happy_one_none(centre: Centre):
    live = centre.live
    unhappy = live.call("hold 40; press 1; press 2", from_="+14155550141")
    happy = live.call("hold 40; press 5; press 1", from_="+14155550142")
    live.run_until(lambda: all(any("waitUrl" in e.text for e in leg.transcript.requests())
                               for leg in (unhappy, happy)))  # both on hold: "hold" is used
    live.available("alice", "dan")  # each takes one; the survey follows the agent
    live.run_until(finished(unhappy, happy))
    centre.settle()
    assert centre.rules_of(unhappy.call_sid) == ["low_satisfaction", "not_resolved"], (
        unhappy.transcript.render())
    assert centre.rules_of(happy.call_sid) == [], happy.transcript.render()
    low = centre.tasks()[unhappy.call_sid][0]
    assert low.reason == "Rated the call 1 of 5 after talking to support"
    assert low.team == "support"
    assert live.standin.messages == []  # these rules have no sms:


@sqlite_only
def test_voicemail_tasks_with_a_transcript_and_without_one(
        centre: Centre, speak: Callable[[str], bytes],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch):
    from ivr.domain.queueing import OverflowRule

    live = centre.live
    live.configure_queue("support", overflow=OverflowRule(after=1.0, action="voicemail"))
    audio = speak(ORDER_SENTENCE)
    lost: set[str] = set()
    served = live.standin.recording_wav  # the stand-in keeps no audio: serve the caller's voice
    monkeypatch.setattr(live.standin, "recording_wav",
                        lambda sid: None if sid in lost or served(sid) is None else audio)
    spoken = live.call(f'hold 30; say "{ORDER_SENTENCE}"', from_="+14155550151")
    gone = live.call('hold 30; say "hello"', from_="+14155550152")
    live.run_until(finished(spoken, gone))
    lost.update(gone.recordings)  # deleted at Twilio before the worker fetched it
    drain_events(live.redis, centre.sessions, hooks=[centre.hook])
    (before,) = centre.tasks()[spoken.call_sid]
    assert (before.rule, before.transcript_status, before.transcript) == (
        "voicemail", "pending", None)  # opened before the transcript exists
    centre.settle()
    (vm,) = centre.tasks()[spoken.call_sid]
    assert vm.id == before.id
    assert vm.transcript_status == "ready"
    assert {"my", "order"} <= set((vm.transcript or "").split())
    assert vm.recording_sid in spoken.recordings
    assert vm.reason.startswith("Left a ")
    (failed,) = centre.tasks()[gone.call_sid]
    assert (failed.rule, failed.transcript_status, failed.transcript) == (
        "voicemail", "failed", None)


@sqlite_only
def test_callback_that_fails_after_its_retries_opens_an_urgent_task(centre: Centre):
    from ivr.domain.queueing import CallbackSettings

    live = centre.live
    live.configure_queue("support", callback=CallbackSettings(retries=1, retry_delay=0.2,
                                                              ring_timeout=5))
    live.callees["+14155550161"] = "no-answer"
    leg = live.call("hold 1; press 1; press 1", from_="+14155550161")
    live.run_until(finished(leg))
    live.available("alice")
    live.run_until(lambda: any(f[b"kind"] == b"callback_done" for _, f in
                               live.redis.xrange(keys.events_stream())), timeout=40)
    centre.settle()
    (task,) = centre.tasks()[leg.call_sid]
    assert task.rule == "callback_failed"
    assert task.reason == "Callback to +14155550161 failed after 2 attempts"
    assert (task.priority, task.team) == (1, "support")
