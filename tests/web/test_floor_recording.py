"""Recorded agent calls (issue 14 item 4): the caller's notice, the recording status webhook
`POST /voice/floor/recording?call=` posted signed as Twilio does, the events it files under the
caller's CallSid, and the transcription job it queues (by SID) when the queue asks for it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as redis_lib
from flask import Flask
from rq import Queue

from ivr.phone.twiml_builder import VoiceResponse
from ivr.store import keys
from ivr.store.jobs import ROUTING_QUEUE, START_CALL_RECORDING, TRANSCRIPTION_QUEUE
from tests.twiml_validate import assert_valid_twiml
from tests.web.conftest import BASE, sign, web_settings

ACCOUNT = "AC" + "1" * 32
API = "https://api.twilio.com"
QUEUES = """\
queues:
  support:
    skill: support
    recording: {mode: on, transcribe: true}
  sales:
    skill: sales
    recording: {mode: on, announcement: "Sales calls are recorded."}
  billing:
    skill: billing
agents:
  alice: {address: "client:alice", skills: {support: 5, sales: 5, billing: 5}}
"""


@pytest.fixture
def app(redis_url: str, redis: redis_lib.Redis, tmp_path: Path) -> Flask:  # noqa: ARG001
    from ivr import create_app

    queues = tmp_path / "queues.yaml"
    queues.write_text(QUEUES)
    application = create_app(web_settings(redis_url, tmp_path, twilio_account_sid=ACCOUNT,
                                          queues_file=queues))
    application.testing = True
    return application


def sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def status_form(leg: str, recording: str, status: str, **extra: str) -> dict[str, str]:
    """What Twilio posts to a RecordingStatusCallback (its documented parameters)."""
    form = {"AccountSid": ACCOUNT, "CallSid": leg, "RecordingSid": recording,
            "RecordingStatus": status, "RecordingChannels": "2",
            "RecordingSource": "StartCallRecordingAPI",
            "RecordingStartTime": "Thu, 03 Dec 2026 03:30:00 +0000"}
    if status == "completed":
        form.update(RecordingDuration="42",
                    RecordingUrl=f"{API}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording}")
    return {**form, **extra}


def post_status(app: Flask, call: str, form: dict[str, str], signed: bool = True):
    path = f"/voice/floor/recording?call={call}"
    headers = {"X-Twilio-Signature": sign(BASE + path, form)} if signed else {}
    return app.test_client().post(path, data=form, headers=headers)


def recording_events(conn: redis_lib.Redis, call: str) -> list[tuple[str, str, dict]]:
    return [(f[b"id"].decode(), f[b"kind"].decode(), json.loads(f[b"data"]))
            for _, f in conn.xrange(keys.events_stream()) if f[b"call"].decode() == call]


def recorder(app: Flask):
    return app.extensions["ivr"].floor_recording


def test_the_notice_is_the_queues_announcement_in_the_callers_language(app: Flask):
    rec = recorder(app)
    assert rec.notice("support", "en-US") == "This call may be recorded for quality and training."
    assert rec.notice("support", "es-US").startswith("Esta llamada puede ser grabada")
    assert rec.notice("sales", "en-US") == "Sales calls are recorded."
    assert rec.notice("billing", "en-US") is None
    assert rec.notice("nowhere", "en-US") is None
    r = VoiceResponse()
    assert rec.speak_notice(r, "sales", "en-US") is True
    assert rec.speak_notice(r, "support", "es-US") is True
    assert rec.speak_notice(r, "billing", "en-US") is False
    xml = str(r)
    assert_valid_twiml(xml)
    assert xml.count("<Say") == 2
    assert "Sales calls are recorded." in xml
    assert 'language="es-US"' in xml


def test_the_status_webhook_files_started_and_completed_under_the_callers_sid(
        app: Flask, redis: redis_lib.Redis):
    call, leg, rec_sid, other = sid("CA"), sid("CA"), sid("RE"), sid("CA")
    recorder(app).store.begin(call, leg, "billing")   # as start() leaves it

    forged = post_status(app, call, status_form(leg, rec_sid, "in-progress"), signed=False)
    assert forged.status_code == 403
    assert recording_events(redis, call) == []

    started = post_status(app, call, status_form(leg, rec_sid, "in-progress"))
    assert started.status_code == 204
    assert recorder(app).state(call).status == "in-progress"
    assert recorder(app).state(call).recording == rec_sid
    done = post_status(app, call, status_form(leg, rec_sid, "completed"))
    again = post_status(app, call, status_form(leg, rec_sid, "completed"))  # Twilio retried
    assert (done.status_code, again.status_code) == (204, 204)
    url = f"{API}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{rec_sid}"
    found = recording_events(redis, call)
    assert [(kind, data) for _, kind, data in found] == [
        ("recording", {"recording": rec_sid, "action": "started", "channels": 2}),
        ("recording", {"recording": rec_sid, "action": "completed", "channels": 2,
                       "duration": 42.0, "url": url}),
        ("recording", {"recording": rec_sid, "action": "completed", "channels": 2,
                       "duration": 42.0, "url": url}),
    ]
    ids = [event_id for event_id, _, _ in found]
    assert ids[1] == ids[2] == f"recording:{rec_sid}:completed"  # one event for the writer
    assert recorder(app).state(call).status == "completed"
    assert recorder(app).state(call).console_state == "off"
    assert recording_events(redis, leg) == recording_events(redis, other) == []
    # billing does not transcribe
    assert Queue(TRANSCRIPTION_QUEUE, connection=redis).count == 0


def test_the_floor_state_shows_the_recording(app: Flask, redis: redis_lib.Redis):
    """context.json's floor.recording follows: on when Twilio started it, off when done; a
    call without a floor gets none made up."""
    from ivr.store.floor import FloorStore

    call, leg, rec_sid, bare = sid("CA"), sid("CA"), sid("RE"), sid("CA")
    floors = FloorStore(redis)
    floors.create(call, "support")
    rec = recorder(app)
    rec.store.begin(call, leg, "support")
    rec.store.begin(bare, leg, "support")
    assert floors.load(call).recording == "off"
    post_status(app, call, status_form(leg, rec_sid, "in-progress"))
    post_status(app, bare, status_form(leg, rec_sid, "in-progress"))
    assert floors.load(call).recording == "on"
    assert floors.load(call).view(None, 0.0)["recording"] == "on"
    post_status(app, call, status_form(leg, rec_sid, "completed"))
    assert floors.load(call).recording == "off"
    assert floors.load(bare) is None


def test_silence_is_filed_as_completed_without_a_url(app: Flask, redis: redis_lib.Redis):
    call, leg, rec_sid = sid("CA"), sid("CA"), sid("RE")
    recorder(app).store.begin(call, leg, "support")
    assert post_status(app, call, status_form(leg, rec_sid, "absent")).status_code == 204
    ((_, _, data),) = recording_events(redis, call)
    assert data == {"recording": rec_sid, "action": "completed", "channels": 2,
                    "duration": 0.0, "status": "absent"}
    assert Queue(TRANSCRIPTION_QUEUE, connection=redis).count == 0


def test_a_late_callback_of_an_earlier_recording_leaves_the_current_one(app: Flask):
    call, first_leg, second_leg = sid("CA"), sid("CA"), sid("CA")
    first, second = sid("RE"), sid("RE")
    rec = recorder(app)
    rec.store.begin(call, first_leg, "support")
    post_status(app, call, status_form(first_leg, first, "in-progress"))
    rec.store.begin(call, second_leg, "support")             # a transfer: the next agent
    post_status(app, call, status_form(second_leg, second, "in-progress"))
    post_status(app, call, status_form(first_leg, first, "completed"))
    state = rec.state(call)
    assert (state.leg, state.recording, state.status) == (second_leg, second, "in-progress")


def test_a_transcribing_queue_queues_the_job_by_sid_not_url(app: Flask, redis: redis_lib.Redis):
    call, leg, rec_sid = sid("CA"), sid("CA"), sid("RE")
    recorder(app).store.begin(call, leg, "support")
    post_status(app, call, status_form(leg, rec_sid, "completed"))
    (job,) = Queue(TRANSCRIPTION_QUEUE, connection=redis).jobs
    assert job.func_name == "queue_worker.transcription.transcribe_voicemail"
    assert job.args == (call, rec_sid, "en-US")
    assert job.kwargs == {"mailbox": "", "source": "agent_call"}
    assert "http" not in repr((job.args, job.kwargs))


def test_a_recording_url_elsewhere_is_filed_but_not_transcribed(app: Flask,
                                                                 redis: redis_lib.Redis):
    call, leg, rec_sid = sid("CA"), sid("CA"), sid("RE")
    recorder(app).store.begin(call, leg, "support")
    form = status_form(leg, rec_sid, "completed",
                       RecordingUrl=f"https://evil.example/Recordings/{rec_sid}")
    assert post_status(app, call, form).status_code == 204
    assert Queue(TRANSCRIPTION_QUEUE, connection=redis).count == 0
    ((_, _, data),) = recording_events(redis, call)
    assert data["url"] == f"https://evil.example/Recordings/{rec_sid}"  # playback refuses it


def test_a_failure_inside_never_answers_5xx(app: Flask, redis: redis_lib.Redis,
                                            monkeypatch: pytest.MonkeyPatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the recording service")

    monkeypatch.setattr(recorder(app), "status_callback", broken)
    answer = post_status(app, sid("CA"), status_form(sid("CA"), sid("RE"), "in-progress"))
    assert answer.status_code == 200                                # the fallback, logged
    assert_valid_twiml(answer.data)


def test_start_records_only_for_a_recording_queue(app: Flask, redis: redis_lib.Redis):
    rec = recorder(app)
    calls = {"support": sid("CA"), "billing": sid("CA")}
    visits = dict(calls)
    rec.queue_of = lambda call: next((q for q, c in visits.items() if c == call), None)
    leg = sid("CA")
    assert rec.start(calls["billing"], leg) is False
    assert rec.state(calls["billing"]) is None
    assert rec.start(calls["support"], leg) is True
    assert rec.start(calls["support"], leg) is True          # a repeated webhook: one job
    state = rec.state(calls["support"])
    assert (state.leg, state.queue, state.status, state.console_state) == (
        leg, "support", "starting", "on")
    (job,) = Queue(ROUTING_QUEUE, connection=redis).jobs
    assert (job.func_name, job.args) == (START_CALL_RECORDING, (calls["support"], leg))
    assert rec.start(sid("CA"), leg) is False                   # no queue visit known


def test_the_event_time_is_the_services_clock(app: Flask, redis: redis_lib.Redis):
    fixed = datetime(2026, 12, 3, 3, 30, tzinfo=UTC)
    app.extensions["ivr"].clock = lambda: fixed
    call, leg, rec_sid = sid("CA"), sid("CA"), sid("RE")
    post_status(app, call, status_form(leg, rec_sid, "in-progress"))
    ((_, fields),) = [e for e in redis.xrange(keys.events_stream())
                      if e[1][b"call"].decode() == call]
    assert float(fields[b"at"]) == fixed.timestamp()


def test_a_recording_callback_while_redis_is_down_is_filed_when_it_is_back(tmp_path: Path):
    """Twilio does not retry a recording status callback: the completed recording (its link
    is the only handle on the audio) must survive Redis being away (ivr/outcomes/spool.py)."""
    import time

    from ivr import create_app
    from ivr.store.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        queues = tmp_path / "queues.yaml"
        queues.write_text(QUEUES)
        app = create_app(web_settings(server.url, tmp_path, twilio_account_sid=ACCOUNT,
                                      queues_file=queues))
        svc = app.extensions["ivr"]
        svc.drainer.every = 0.1
        call, leg, rec_sid = sid("CA"), sid("CA"), sid("RE")
        server.stop()
        answer = post_status(app, call, status_form(leg, rec_sid, "completed"))
        assert answer.status_code == 204
        assert svc.spool.held() == 1
        server.start()
        deadline = time.monotonic() + 15
        while svc.spool.held() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        found = recording_events(svc.redis, call)
        assert [(kind, data["action"], data["url"].endswith(rec_sid)) for _, kind, data in found
                ] == [("recording", "completed", True)]
    finally:
        server.stop()


def test_a_callbacks_transcript_joins_the_call_that_asked_for_it(app: Flask,
                                                                 redis: redis_lib.Redis):
    """A callback's floor is `cb:<id>`; its recording events go under the asking call, and
    so must the transcription job, or the transcript would land on a call nobody reads."""
    from ivr.store.floor import FloorStore

    asked, leg, rec_sid = sid("CA"), sid("CA"), sid("RE")
    FloorStore(redis).create("cb:9", "support", record=asked)
    recorder(app).store.begin("cb:9", leg, "support")
    post_status(app, "cb:9", status_form(leg, rec_sid, "completed"))
    (job,) = Queue(TRANSCRIPTION_QUEUE, connection=redis).jobs
    assert job.args[:2] == (asked, rec_sid)
