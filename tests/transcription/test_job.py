"""`transcribe_voicemail` end to end: the recording on a local HTTP server standing in for
Twilio's API (TWILIO_API_BASE), the job run in-process by RQ (SimpleWorker, burst) on the real
Redis, the event read back from the stream. The job gets the recording SID, never its URL."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import redis as redis_lib
from rq import Queue, Retry, SimpleWorker
from rq.job import JobStatus

from ivr.config.settings import DEV_ACCOUNT_SID
from ivr.outcomes.transcription.google_standin import SpeechStandin
from ivr.store import keys
from ivr.store.jobs import TRANSCRIPTION_QUEUE
from queue_worker.transcription import enqueue_transcription, transcribe_voicemail
from tests.transcription.conftest import FileServer


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch, recordings: FileServer) -> None:
    for name in ("IVR_TRANSCRIBER", "IVR_SPEECH_ENDPOINT", "IVR_SPEECH_MODEL",
                 "GOOGLE_APPLICATION_CREDENTIALS", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                 "IVR_RETENTION_DAYS", "IVR_RECORDING_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_API_BASE", recordings.url)


def media(sid: str, account: str = DEV_ACCOUNT_SID) -> str:
    """Where Twilio's API serves a recording's WAV (what the job must build from the SID)."""
    return f"/2010-04-01/Accounts/{account}/Recordings/{sid}.wav"


def _run(conn: redis_lib.Redis) -> None:
    SimpleWorker([Queue(TRANSCRIPTION_QUEUE, connection=conn)], connection=conn).work(burst=True)


def _events(conn: redis_lib.Redis) -> list[dict[str, Any]]:
    out = []
    for _id, fields in conn.xrange(keys.events_stream()):
        event = {k.decode(): v.decode() for k, v in fields.items()}
        event["data"] = json.loads(event["data"])
        out.append(event)
    return out


def test_voicemail_is_fetched_transcribed_and_published(
        redis: redis_lib.Redis, recordings: FileServer, order_wav: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    recordings.files[media("RE1", "AC123")] = order_wav
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    job = enqueue_transcription(q, "CA1", "RE1", "en-US", mailbox="sales")
    assert recordings.url not in repr(job.args) + repr(job.kwargs)
    _run(redis)
    assert job.get_status() == JobStatus.FINISHED
    [event] = _events(redis)
    assert (event["kind"], event["call"]) == ("transcript_ready", "CA1")
    assert abs(float(event["at"]) - time.time()) < 60  # epoch seconds, UTC
    data = event["data"]
    assert {"my", "order"} <= set(data["text"].split())
    assert (data["engine"], data["language"], data["mailbox"]) == ("pocketsphinx", "en-US",
                                                                   "sales")
    assert data["recording_sid"] == "RE1"
    assert data["words"][-1]["text"] == "order"
    assert 0 < data["confidence"] <= 1
    assert "recording_url" not in data
    # the URL built from the account and the SID, basic auth with the account SID and token
    expected_auth = "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert recordings.requests == [(media("RE1", "AC123"), expected_auth)]


def test_missing_recording_still_publishes_a_failure(
        redis: redis_lib.Redis, recordings: FileServer, order_wav: bytes) -> None:
    recordings.files[media("RE1")] = order_wav  # another recording exists
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    job = enqueue_transcription(q, "CA2", "RE404", "en-US", mailbox="support")
    _run(redis)
    assert job.get_status() == JobStatus.FINISHED  # not retried: a 404 will not heal
    [event] = _events(redis)
    assert (event["kind"], event["call"]) == ("transcript_failed", "CA2")
    data = event["data"]
    assert data["code"] == "recording_not_found"
    assert "404" in data["reason"]
    assert data["reason"].startswith("recording RE404 does not exist")
    assert (data["mailbox"], data["recording_sid"]) == ("support", "RE404")
    assert recordings.requests[0][1] is None  # no credentials set, no auth header


def test_unsupported_language_publishes_a_failure(
        redis: redis_lib.Redis, recordings: FileServer, order_wav: bytes) -> None:
    recordings.files[media("RE3")] = order_wav
    enqueue_transcription(Queue(TRANSCRIPTION_QUEUE, connection=redis), "CA3", "RE3", "es-MX")
    _run(redis)
    [event] = _events(redis)
    assert event["kind"] == "transcript_failed"
    assert (event["data"]["code"], event["data"]["engine"]) == ("unsupported_language",
                                                                "pocketsphinx")


def test_network_failure_is_retried_then_reported(redis: redis_lib.Redis,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with FileServer() as closed:
        monkeypatch.setenv("TWILIO_API_BASE", closed.url)
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    job = q.enqueue(transcribe_voicemail, "CA4", "RE4", "en-US", fetch_timeout=2.0,
                    retry=Retry(max=1))  # interval 0: requeued at once, same burst
    _run(redis)
    assert job.get_status() == JobStatus.FINISHED
    job.refresh()
    assert job.retries_left == 0  # the first try raised and RQ retried
    [event] = _events(redis)  # one event, from the last try only
    assert event["kind"] == "transcript_failed"
    assert event["data"]["code"] == "fetch_failed"


def test_google_engine_through_the_stand_in(
        redis: redis_lib.Redis, recordings: FileServer, order_wav: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    recordings.files[media("RE5")] = recordings.files[media("RE6")] = order_wav
    with SpeechStandin() as standin:
        standin.answer("¿Me puede llamar, por favor?", confidence=0.8)
        standin.fail(grpc.StatusCode.PERMISSION_DENIED, "Cloud Speech API has not been used")
        monkeypatch.setenv("IVR_SPEECH_ENDPOINT", standin.address)
        q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
        enqueue_transcription(q, "CA5", "RE5", "es-MX")
        enqueue_transcription(q, "CA6", "RE6", "es-MX")
        _run(redis)
    ready, failed = _events(redis)
    assert (ready["kind"], ready["call"]) == ("transcript_ready", "CA5")
    assert ready["data"]["text"] == "¿Me puede llamar, por favor?"
    assert ready["data"]["engine"] == "google"
    assert (failed["kind"], failed["call"]) == ("transcript_failed", "CA6")
    assert "PERMISSION_DENIED" in failed["data"]["reason"]
    assert [r.config.language_code for r in standin.requests] == ["es-MX", "es-MX"]


def test_job_outside_rq_says_so() -> None:
    with pytest.raises(RuntimeError, match="inside an RQ job"):
        transcribe_voicemail("CA7", "RE7", "en-US")


def test_failed_job_is_kept_no_longer_than_retention(
        redis: redis_lib.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    assert enqueue_transcription(q, "CA8", "RE8").failure_ttl == 30 * 86_400  # the defaults
    monkeypatch.setenv("IVR_RETENTION_DAYS", "7")
    assert enqueue_transcription(q, "CA9", "RE9").failure_ttl == 7 * 86_400
    monkeypatch.setenv("IVR_RETENTION_DAYS", "0")
    monkeypatch.setenv("IVR_RECORDING_RETENTION_DAYS", "0")
    assert enqueue_transcription(q, "CA10", "RE10").failure_ttl is None  # forever: RQ's year


def test_the_voicemail_webhook_queues_the_sid_only_for_the_configured_api(
        redis: redis_lib.Redis, redis_url: str, tmp_path, recordings: FileServer) -> None:
    """The recording webhook (ivr/app/services.py recording_ready) applies playback's origin rule
    (ivr/outcomes/recording_media.py): a RecordingUrl elsewhere is not fetched, nor queued."""
    from ivr.app.services import build_services
    from ivr.config.settings import Config

    config = Config(redis_url=redis_url, dev_mode=True, instance_dir=tmp_path,
                    twilio_api_base=recordings.url)
    svc = build_services(config, redis)
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    ours = f"{recordings.url}/2010-04-01/Accounts/{DEV_ACCOUNT_SID}/Recordings/RE11"
    svc.recording_ready("CA11", "sales", {"RecordingUrl": ours, "RecordingSid": "RE11"},
                              datetime.now(UTC))
    [job] = q.get_jobs()
    assert (job.args, job.kwargs["mailbox"]) == (("CA11", "RE11", "en-US"), "sales")
    for url in ("http://169.254.169.254/latest/meta-data", "https://evil.example/r/RE12",
                recordings.url.replace("http://", "https://") + "/Recordings/RE12"):
        svc.recording_ready("CA12", "sales", {"RecordingUrl": url, "RecordingSid": "RE12"},
                                  datetime.now(UTC))
    assert [j.id for j in q.get_jobs()] == ["transcribe-RE11"]
    assert recordings.requests == []  # nothing fetched at the webhook
