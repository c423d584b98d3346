"""Recorded agent calls live under the voicemail's rules (issue 14 item 4): deleted at Twilio
and unlinked after IVR_RECORDING_RETENTION_DAYS, a call's personal data waits for its
recording to go, played only to the listening roles (410 once deleted), and transcribed by
the voicemail job into their own event kinds (not a voicemail: no call-back task)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import redis as redis_lib
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.privacy import RetentionPolicy
from ivr.outcomes.retention import apply_retention
from ivr.store import events as ev
from ivr.store import models as m
from ivr.store.jobs import TRANSCRIPTION_QUEUE, enqueue_transcription
from queue_worker.outcomes import drain_events
from tests.e2e.conftest import Live
from tests.privacy.conftest import outcome_db
from tests.privacy.test_retention import Deleter
from tests.signin import add_users, signed_in

DAY = 86_400.0
NOW = 1_800_000_000.0
API = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/"


def agent_call(sid: str, recording: str) -> list[tuple[str, float, dict]]:
    return [
        ("call_started", 0, {"caller": "+14155550123", "dialed": "+15550002000", "flow": "f"}),
        ("queue_joined", 4, {"queue": "support", "skill": "support"}),
        ("queue_left", 30, {"queue": "support", "result": "bridged", "wait": 26.0}),
        ("agent_answered", 30, {"queue": "support", "agent": "alice"}),
        ("recording", 31, {"recording": recording, "action": "started", "channels": 2}),
        ("recording", 50, {"recording": recording, "action": "paused"}),
        ("recording", 70, {"recording": recording, "action": "resumed"}),
        ("recording", 150, {"recording": recording, "action": "completed", "channels": 2,
                            "duration": 99.0, "url": API + recording}),
        ("call_ended", 151, {"duration": 151.0, "status": "completed"}),
    ]


def load(redis: redis_lib.Redis, factory: sessionmaker[Session],
         ages: dict[str, float]) -> None:
    for sid, days in ages.items():
        start = NOW - days * DAY
        for kind, offset, data in agent_call(sid, f"RE{sid}"):
            ev.publish_event(redis, kind, sid, data, start + offset)
    assert drain_events(redis, factory).written == 9 * len(ages)


def recording_data(session: Session, sid: str) -> list[dict]:
    return [dict(d) for d in session.execute(select(m.ProcessedEventRow.data).where(
        m.ProcessedEventRow.call_sid == sid, m.ProcessedEventRow.kind == "recording")
        .order_by(m.ProcessedEventRow.at)).scalars()]


def test_retention_deletes_an_agent_call_recording_at_twilio_and_unlinks_it(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]):
    load(redis, session_factory, {"CAold": 40, "CAnew": 1})
    deleter, policy = Deleter(), RetentionPolicy(personal_days=90, recording_days=30)
    with session_factory() as session:
        before = recording_data(session, "CAold")
    dry = apply_retention(session_factory, deleter, policy, NOW, dry_run=True)
    assert (dry.recordings_deleted, deleter.recordings) == (1, [])

    report = apply_retention(session_factory, deleter, policy, NOW)
    assert (report.recordings_deleted, report.recordings_failed) == (1, 0)
    assert deleter.recordings == ["RECAold"]
    with session_factory() as session:
        after = recording_data(session, "CAold")
        assert after == [{k: v for k, v in d.items() if k != "url"} for d in before]
        assert after[-1] == {"recording": "RECAold", "action": "completed", "channels": 2,
                             "duration": 99.0}
        assert recording_data(session, "CAnew")[-1]["url"] == API + "RECAnew"
        call = session.get(m.CallRow, "CAold")
        assert (call.outcome, call.agent, call.voicemails) == ("answered", "alice", [])
    again = apply_retention(session_factory, deleter, policy, NOW)
    assert (again.recordings_deleted, deleter.recordings) == (0, ["RECAold"])


def test_personal_data_waits_for_the_agent_call_recording(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]):
    load(redis, session_factory, {"CAold": 100})
    deleter, policy = Deleter(), RetentionPolicy(personal_days=90, recording_days=30)
    deleter.fail.add("RECAold")                                 # Twilio unreachable today
    report = apply_retention(session_factory, deleter, policy, NOW)
    assert (report.recordings_failed, report.calls_redacted, report.calls_waiting) == (1, 0, 1)
    with session_factory() as session:
        assert session.get(m.CallRow, "CAold").caller == "+14155550123"
        assert recording_data(session, "CAold")[-1]["url"] == API + "RECAold"
    deleter.fail.clear()
    report = apply_retention(session_factory, deleter, policy, NOW)
    assert (report.recordings_deleted, report.calls_redacted) == (1, 1)
    with session_factory() as session:
        assert session.get(m.CallRow, "CAold").caller is None
        assert "url" not in json.dumps(recording_data(session, "CAold"))


def test_agent_call_audio_plays_only_to_the_listening_roles(live: Live, tmp_path: Path):
    leg = live.call('hold 1; hangup')
    live.run_until(lambda: leg.completed)
    recording = "RE" + "5" * 32
    leg.recordings[recording] = 3.0                    # Twilio holds the agent call's audio
    svc = live.app.extensions["ivr"]
    url = f"{live.standin.config.api_base}/2010-04-01/Accounts/" \
          f"{live.app.config['IVR'].twilio_account_sid}/Recordings/{recording}"
    svc.floor_recording.status_callback(leg.call_sid, {
        "CallSid": "CA" + "6" * 32, "RecordingSid": recording, "RecordingStatus": "completed",
        "RecordingDuration": "3", "RecordingChannels": "2", "RecordingUrl": url},
        datetime.now(UTC))
    engine, factory = outcome_db(tmp_path)
    drain_events(live.redis, factory)
    add_users(tmp_path, ada="admin", sue="supervisor", ann="agent")
    path = f"/recordings/{recording}"
    clients = {name: signed_in(live.app, name) for name in ("ann", "sue", "ada")}
    assert clients["ann"].get(path).status_code == 403
    for user in ("sue", "ada"):
        heard = clients[user].get(path)
        assert (heard.status_code, heard.mimetype, heard.data[:4]) == (200, "audio/x-wav",
                                                                        b"RIFF")
    assert live.standin.media_requests[-1][0] == f"{recording}.wav"
    assert clients["sue"].get("/recordings/RE" + "7" * 32).status_code == 404
    report = apply_retention(factory, _RestDeleter(live), RetentionPolicy(1, 1),
                             time.time() + 2 * DAY)
    assert report.recordings_deleted == 1
    assert clients["sue"].get(path).status_code == 410                # deleted: gone
    engine.dispose()


def _RestDeleter(live: Live):  # noqa: N802 - the production deleter on the stand-in
    from ivr.outcomes.retention import RestDeleter
    from ivr.phone.call_control import build_client

    return RestDeleter(build_client(live.app.config["IVR"]))


def test_an_agent_call_transcript_is_its_own_kind_not_a_voicemail(live: Live, tmp_path: Path):
    leg = live.call('hold 1; hangup')
    live.run_until(lambda: leg.completed)
    recording = "RE" + "8" * 32
    leg.recordings[recording] = 2.0
    enqueue_transcription(Queue(TRANSCRIPTION_QUEUE, connection=live.redis), leg.call_sid,
                          recording, "en-US", mailbox="", failure_ttl=None,
                          source="agent_call")
    SimpleWorker([TRANSCRIPTION_QUEUE], connection=live.redis).work(burst=True)
    engine, factory = outcome_db(tmp_path)
    drain_events(live.redis, factory)
    with factory() as session:
        kinds = session.execute(select(m.ProcessedEventRow.kind, m.ProcessedEventRow.data)
                                .where(m.ProcessedEventRow.call_sid == leg.call_sid,
                                       m.ProcessedEventRow.kind.like("%transcript%"))).all()
        call = session.get(m.CallRow, leg.call_sid)
        assert call.voicemails == []
        assert call.outcome != "voicemail"
    assert [k for k, _ in kinds] == ["recording_transcript_ready"]
    assert kinds[0][1]["recording"] == recording
    assert kinds[0][1]["text"] == ""                       # the stand-in's audio is silence
    engine.dispose()
