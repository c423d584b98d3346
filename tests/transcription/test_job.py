"""`transcribe_voicemail` end to end: RecordingUrl on a local HTTP server, the job run
in-process by RQ (SimpleWorker, burst) on the real Redis, the event read back from the stream."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import grpc
import pytest
import redis as redis_lib
from rq import Queue, Retry, SimpleWorker
from rq.job import JobStatus

from ivr.store import keys
from ivr.transcription.google_standin import SpeechStandin
from queue_worker.transcription import (
    TRANSCRIPTION_QUEUE,
    enqueue_transcription,
    transcribe_voicemail,
)
from tests.transcription.conftest import FileServer


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IVR_TRANSCRIBER", "IVR_SPEECH_ENDPOINT", "IVR_SPEECH_MODEL",
                 "GOOGLE_APPLICATION_CREDENTIALS", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


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
    recordings.files["/Recordings/RE1.wav"] = order_wav
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    job = enqueue_transcription(q, "CA1", f"{recordings.url}/Recordings/RE1", "en-US",
                                recording_sid="RE1", mailbox="sales")
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
    # `.wav` appended to the RecordingUrl, basic auth with the account SID and token
    expected_auth = "Basic " + base64.b64encode(b"AC123:secret").decode()
    assert recordings.requests == [("/Recordings/RE1.wav", expected_auth)]


def test_missing_recording_still_publishes_a_failure(
        redis: redis_lib.Redis, recordings: FileServer, order_wav: bytes) -> None:
    recordings.files["/Recordings/RE1.wav"] = order_wav  # another recording exists
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    job = enqueue_transcription(q, "CA2", f"{recordings.url}/Recordings/RE404", "en-US",
                                recording_sid="RE404", mailbox="support")
    _run(redis)
    assert job.get_status() == JobStatus.FINISHED  # not retried: a 404 will not heal
    [event] = _events(redis)
    assert (event["kind"], event["call"]) == ("transcript_failed", "CA2")
    data = event["data"]
    assert data["code"] == "recording_not_found"
    assert "404" in data["reason"]
    assert data["reason"].startswith(f"recording {recordings.url}/Recordings/RE404.wav")
    assert (data["mailbox"], data["recording_sid"]) == ("support", "RE404")
    assert recordings.requests[0][1] is None  # no credentials set, no auth header


def test_unsupported_language_publishes_a_failure(
        redis: redis_lib.Redis, recordings: FileServer, order_wav: bytes) -> None:
    recordings.files["/r.wav"] = order_wav
    enqueue_transcription(Queue(TRANSCRIPTION_QUEUE, connection=redis), "CA3",
                          f"{recordings.url}/r.wav", "es-MX")
    _run(redis)
    [event] = _events(redis)
    assert event["kind"] == "transcript_failed"
    assert (event["data"]["code"], event["data"]["engine"]) == ("unsupported_language",
                                                                "pocketsphinx")


def test_network_failure_is_retried_then_reported(redis: redis_lib.Redis) -> None:
    with FileServer() as closed:
        url = f"{closed.url}/gone"
    q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
    job = q.enqueue(transcribe_voicemail, "CA4", url, "en-US", fetch_timeout=2.0,
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
    recordings.files["/r.wav"] = order_wav
    with SpeechStandin() as standin:
        standin.answer("¿Me puede llamar, por favor?", confidence=0.8)
        standin.fail(grpc.StatusCode.PERMISSION_DENIED, "Cloud Speech API has not been used")
        monkeypatch.setenv("IVR_SPEECH_ENDPOINT", standin.address)
        q = Queue(TRANSCRIPTION_QUEUE, connection=redis)
        enqueue_transcription(q, "CA5", f"{recordings.url}/r", "es-MX", recording_sid="RE5")
        enqueue_transcription(q, "CA6", f"{recordings.url}/r", "es-MX", recording_sid="RE6")
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
        transcribe_voicemail("CA7", "http://127.0.0.1:9/r", "en-US")
