"""The voicemail transcription job (RQ): fetch the recording, transcribe it, publish an event.

`transcribe_voicemail(call_sid, recording_sid, language, ...)` always ends in exactly one
event on the outcome stream (`ivr.app.services.publish_event`), so the voicemail and its follow-up
task exist with or without text:

- `transcript_ready`: data = recording, recording_sid, mailbox, text, confidence, engine,
  language, words ([{text, start, end, confidence}], seconds). `text` is "" for silence.
- `transcript_failed`: data = recording, recording_sid, mailbox, language, code
  (`TranscriptionFailed.code`, or `internal`), reason (a sentence naming the fix), engine.

A recorded agent call (`source="agent_call"`, ivr/phone/floor_recording.py) goes through the
same job and publishes `recording_transcript_ready` / `recording_transcript_failed` with the
same data: a voicemail's kinds would make the fold count the call as a voicemail and open a
"listen and call back" task for a call that was answered.

The job carries the recording SID, never its URL (issue 12, item 7a): the URL is built at
fetch time from the SID, the configured Twilio API and the account
(`ivr.outcomes.recording_media`), so
the audio comes only from the origin playback also allows, and no job argument, log line or
event holds a link anyone could play. A failed job is kept no longer than the retention period
(`failure_ttl`, from IVR_RETENTION_DAYS / IVR_RECORDING_RETENTION_DAYS).

Network trouble (connection errors, timeouts, HTTP 5xx/429, engine UNAVAILABLE) re-raises
while the job has retries left, so RQ retries it with backoff (`TRANSCRIBE_RETRY`); on the last
try it publishes `transcript_failed`. A 404 or a bad file fails at once: retrying cannot help.

The engine comes from the settings (`ivr.outcomes.transcription.transcriber_for`), built
once per worker process for a given setting, never at import.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis
import requests
from rq import Queue, get_current_job
from rq.job import Job

from ivr.app.services import publish_event
from ivr.config.settings import from_env
from ivr.domain.errors import TranscriptionFailed
from ivr.domain.privacy import failed_job_ttl, policy_from_config
from ivr.outcomes.recording_media import credentials, media_url
from ivr.outcomes.transcription import Transcriber, transcriber_for
from ivr.store import jobs
from queue_worker.context import installed_config

log = logging.getLogger(__name__)
MAX_RECORDING_BYTES = 50 * 1024 * 1024
DAY_S = 86_400
_TRANSCRIBERS: dict[tuple[str | None, ...], Transcriber] = {}
KINDS = {"voicemail": ("transcript_ready", "transcript_failed"),
         "agent_call": ("recording_transcript_ready", "recording_transcript_failed")}


def enqueue_transcription(rq: Queue, call_sid: str, recording_sid: str, language: str = "en-US",
                          *, mailbox: str = "", config: Any = None) -> Job:
    """Queue the job once per recording (job id `transcribe-<sid>`), with retry and backoff;
    a job that fails for good is kept at most as long as the retention period."""
    return jobs.enqueue_transcription(rq, call_sid, recording_sid, language, mailbox=mailbox,
                                      failure_ttl=failure_ttl(config or from_env()))


def failure_ttl(config: Any) -> int | None:
    """Seconds RQ keeps a failed job (its arguments and traceback): the shorter retention
    period, or RQ's default (a year) when both keep forever."""
    return failed_job_ttl(policy_from_config(config))


def transcribe_voicemail(call_sid: str, recording_sid: str, language: str = "en-US", *,
                         mailbox: str = "", fetch_timeout: float = 30.0,
                         source: str = "voicemail") -> dict[str, Any]:
    """Run in an RQ worker. Returns the published event's kind and data (for RQ's result).
    `source`: `voicemail`, or `agent_call` for a recorded agent call (its own event kinds)."""
    ready, failed = KINDS[source]
    job = get_current_job()
    if job is None:
        raise RuntimeError("transcribe_voicemail runs inside an RQ job (it publishes on the "
                           "job's Redis connection)")
    base = {"recording": recording_sid, "recording_sid": recording_sid, "mailbox": mailbox}
    engine = ""
    try:
        transcriber = current_transcriber()
        engine = transcriber.name
        audio = fetch_recording(recording_sid, timeout=fetch_timeout,
                                config=installed_config(job.connection))
        transcript = transcriber.transcribe(audio, language)
    except TranscriptionFailed as exc:
        if exc.retryable and job.retries_left:
            log.warning("call %s: transcription will be retried (%s left): %s", call_sid,
                        job.retries_left, exc)
            raise
        log.warning("call %s: voicemail not transcribed (%s): %s", call_sid, exc.code, exc)
        data = {**base, "language": language, "code": exc.code, "reason": exc.reason,
                "engine": engine}
        return _publish(job.connection, failed, call_sid, data)
    except Exception as exc:  # a bug must not lose the voicemail's follow-up: report it
        log.exception("call %s: transcription crashed", call_sid)
        data = {**base, "language": language, "code": "internal",
                "reason": f"{type(exc).__name__}: {exc}", "engine": engine}
        return _publish(job.connection, failed, call_sid, data)
    return _publish(job.connection, ready, call_sid,
                    {**base, **transcript.as_event_data()})


def fetch_recording(recording_sid: str, *, timeout: float = 30.0,
                    config: Any = None) -> bytes:
    """GET the recording's WAV from the configured Twilio API (`ivr.outcomes.recording_media`), with
    HTTP basic auth from TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN when both are set (accounts
    that require authenticated media). Raises TranscriptionFailed naming the SID; network
    and 5xx ones are retryable."""
    config = config or from_env()
    try:
        url = media_url(config, recording_sid)
    except ValueError as exc:
        raise TranscriptionFailed(str(exc), code="recording_not_found") from None
    try:
        with requests.get(url, auth=credentials(config), timeout=timeout,
                          stream=True) as response:
            _check_status(recording_sid, response.status_code)
            return _read_capped(recording_sid, response)
    except requests.RequestException as exc:
        raise TranscriptionFailed(f"could not fetch recording {recording_sid}: "
                                  f"{type(exc).__name__}", code="fetch_failed",
                                  retryable=True) from None  # its text names the URL


def _check_status(sid: str, status: int) -> None:
    if status == 200:
        return
    if status == 404:
        raise TranscriptionFailed(f"recording {sid} does not exist (HTTP 404): it was deleted or"
                                  " belongs to another account", code="recording_not_found")
    if status in (401, 403):
        raise TranscriptionFailed(f"recording {sid} refused us (HTTP {status}): check "
                                  "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", code="fetch_failed")
    raise TranscriptionFailed(f"recording {sid} answered HTTP {status}", code="fetch_failed",
                              retryable=status >= 500 or status == 429)


def _read_capped(sid: str, response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_RECORDING_BYTES:
            raise TranscriptionFailed(f"recording {sid} is over {MAX_RECORDING_BYTES} bytes: "
                                      "lower the voicemail maxLength", code="bad_audio")
        chunks.append(chunk)
    return b"".join(chunks)


def current_transcriber() -> Transcriber:
    """The engine for the current environment, built once per process per setting."""
    config = from_env()
    settings = (config.transcriber, config.speech_endpoint, config.speech_model,
                config.google_application_credentials)
    if settings not in _TRANSCRIBERS:
        _TRANSCRIBERS[settings] = transcriber_for(config)
    return _TRANSCRIBERS[settings]


def _publish(conn: redis.Redis, kind: str, call_sid: str,
             data: dict[str, Any]) -> dict[str, Any]:
    publish_event(conn, kind, call_sid, data, datetime.now(UTC))
    return {"kind": kind, **data}
