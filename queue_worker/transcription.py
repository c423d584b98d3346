"""The voicemail transcription job (RQ): fetch the recording, transcribe it, publish an event.

`transcribe_voicemail(call_sid, recording_url, language, ...)` always ends in exactly one
event on the outcome stream (`ivr.services.publish_event`), so the voicemail and its follow-up
task exist with or without text:

- `transcript_ready`: data = recording_url, recording_sid, mailbox, text, confidence, engine,
  language, words ([{text, start, end, confidence}], seconds). `text` is "" for silence.
- `transcript_failed`: data = recording_url, recording_sid, mailbox, language, code
  (`TranscriptionFailed.code`, or `internal`), reason (a sentence naming the fix), engine.

Network trouble (connection errors, timeouts, HTTP 5xx/429, engine UNAVAILABLE) re-raises
while the job has retries left, so RQ retries it with backoff (`TRANSCRIBE_RETRY`); on the last
try it publishes `transcript_failed`. A 404 or a bad file fails at once: retrying cannot help.

The engine comes from the environment (`ivr.transcription.transcriber_from_env`), built once
per worker process for a given setting, never at import.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

import redis
import requests
from rq import Queue, Retry, get_current_job
from rq.job import Job

from ivr.errors import TranscriptionFailed
from ivr.services import publish_event
from ivr.transcription import Transcriber, transcriber_from_env

log = logging.getLogger(__name__)
TRANSCRIPTION_QUEUE = "ivr-transcription"
TRANSCRIBE_RETRY = Retry(max=3, interval=[30, 120, 600])
MAX_RECORDING_BYTES = 50 * 1024 * 1024
_AUDIO_SUFFIXES = (".wav", ".mp3")
_TRANSCRIBERS: dict[tuple[str, ...], Transcriber] = {}
_ENV_KEYS = ("IVR_TRANSCRIBER", "IVR_SPEECH_ENDPOINT", "IVR_SPEECH_MODEL",
             "GOOGLE_APPLICATION_CREDENTIALS")


def enqueue_transcription(rq: Queue, call_sid: str, recording_url: str, language: str = "en-US",
                          *, recording_sid: str = "", mailbox: str = "") -> Job:
    """Queue the job once per recording (job id `transcribe-<sid>`), with retry and backoff."""
    job_id = f"transcribe-{recording_sid or call_sid}"
    return rq.enqueue(transcribe_voicemail, call_sid, recording_url, language,
                      recording_sid=recording_sid, mailbox=mailbox, job_id=job_id,
                      retry=TRANSCRIBE_RETRY, job_timeout=600)


def transcribe_voicemail(call_sid: str, recording_url: str, language: str = "en-US", *,
                         recording_sid: str = "", mailbox: str = "",
                         fetch_timeout: float = 30.0) -> dict[str, Any]:
    """Run in an RQ worker. Returns the published event's kind and data (for RQ's result)."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("transcribe_voicemail runs inside an RQ job (it publishes on the "
                           "job's Redis connection)")
    base = {"recording": recording_sid or recording_url, "recording_url": recording_url,
            "recording_sid": recording_sid, "mailbox": mailbox}
    engine = ""
    try:
        transcriber = current_transcriber()
        engine = transcriber.name
        audio = fetch_recording(recording_url, timeout=fetch_timeout)
        transcript = transcriber.transcribe(audio, language)
    except TranscriptionFailed as exc:
        if exc.retryable and job.retries_left:
            log.warning("call %s: transcription will be retried (%s left): %s", call_sid,
                        job.retries_left, exc)
            raise
        log.warning("call %s: voicemail not transcribed (%s): %s", call_sid, exc.code, exc)
        data = {**base, "language": language, "code": exc.code, "reason": exc.reason,
                "engine": engine}
        return _publish(job.connection, "transcript_failed", call_sid, data)
    except Exception as exc:  # a bug must not lose the voicemail's follow-up: report it
        log.exception("call %s: transcription crashed", call_sid)
        data = {**base, "language": language, "code": "internal",
                "reason": f"{type(exc).__name__}: {exc}", "engine": engine}
        return _publish(job.connection, "transcript_failed", call_sid, data)
    return _publish(job.connection, "transcript_ready", call_sid,
                    {**base, **transcript.as_event_data()})


def fetch_recording(recording_url: str, *, timeout: float = 30.0) -> bytes:
    """GET the recording as WAV (Twilio serves `<RecordingUrl>.wav`), with HTTP basic auth
    from TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN when both are set (accounts that require
    authenticated media). Raises TranscriptionFailed; network and 5xx ones are retryable."""
    url = recording_url if recording_url.endswith(_AUDIO_SUFFIXES) else recording_url + ".wav"
    sid, token = os.environ.get("TWILIO_ACCOUNT_SID"), os.environ.get("TWILIO_AUTH_TOKEN")
    try:
        with requests.get(url, auth=(sid, token) if sid and token else None, timeout=timeout,
                          stream=True) as response:
            _check_status(url, response.status_code)
            return _read_capped(url, response)
    except requests.RequestException as exc:
        raise TranscriptionFailed(f"could not fetch {url}: {exc}", code="fetch_failed",
                                  retryable=True) from exc


def _check_status(url: str, status: int) -> None:
    if status == 200:
        return
    if status == 404:
        raise TranscriptionFailed(f"recording {url} does not exist (HTTP 404): it was deleted or"
                                  " the RecordingUrl is wrong", code="recording_not_found")
    if status in (401, 403):
        raise TranscriptionFailed(f"recording {url} refused us (HTTP {status}): check "
                                  "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", code="fetch_failed")
    raise TranscriptionFailed(f"recording {url} answered HTTP {status}", code="fetch_failed",
                              retryable=status >= 500 or status == 429)


def _read_capped(url: str, response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_RECORDING_BYTES:
            raise TranscriptionFailed(f"recording {url} is over {MAX_RECORDING_BYTES} bytes: "
                                      "lower the voicemail maxLength", code="bad_audio")
        chunks.append(chunk)
    return b"".join(chunks)


def current_transcriber() -> Transcriber:
    """The engine for the current environment, built once per process per setting."""
    settings = tuple(os.environ.get(k, "") for k in _ENV_KEYS)
    if settings not in _TRANSCRIBERS:
        _TRANSCRIBERS[settings] = transcriber_from_env()
    return _TRANSCRIBERS[settings]


def _publish(conn: redis.Redis, kind: str, call_sid: str,
             data: dict[str, Any]) -> dict[str, Any]:
    publish_event(conn, kind, call_sid, data, datetime.now(UTC))
    return {"kind": kind, **data}
