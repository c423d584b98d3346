"""The production engine: Google Cloud Speech-to-Text v1 (`google-cloud-speech`).

Owns `GoogleTranscriber`. The recording is decoded to LINEAR16 at its own sample rate (8 kHz
for Twilio) rather than resampled to 16 kHz: Google's guidance is to send the native rate,
since upsampling adds no information and can cost accuracy. Up to `SYNC_LIMIT_SECONDS` goes
through `recognize`; longer voicemail through `long_running_recognize` with inline content
(Google's limit for inline audio is 10 MB, about 10 minutes at 8 kHz 16-bit).

Retries: the gapic default retry would block the worker for minutes on UNAVAILABLE; we pass
`retry=None` and raise `TranscriptionFailed(retryable=True)` instead, so RQ retries the job
with backoff (queue_worker/transcription.py) and the worker stays free meanwhile.
"""

from __future__ import annotations

from typing import Any

from ivr.domain.errors import TranscriptionFailed
from ivr.outcomes.transcription import Transcript, Word
from ivr.outcomes.transcription.audio import PcmAudio, to_pcm16

ENGINE = "google"
SYNC_LIMIT_SECONDS = 55.0  # the sync API refuses more than 60 s; keep a margin
INLINE_LIMIT_BYTES = 10 * 1024 * 1024
# gRPC status codes worth another try later; everything else is a bad request or config.
_RETRYABLE = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL", "ABORTED",
              "UNKNOWN"}


class GoogleTranscriber:
    """`transcribe` via `SpeechClient`; the client is built on first use.

    `endpoint` ("host:port") talks plaintext gRPC with no credentials to a stand-in
    (ivr/outcomes/transcription/google_standin.py); None uses speech.googleapis.com with Application
    Default Credentials. `client` injects a ready SpeechClient instead.
    """

    name = ENGINE

    def __init__(self, *, endpoint: str | None = None, model: str | None = None,
                 timeout: float = 120.0, client: Any = None) -> None:
        self.endpoint = endpoint
        self.model = model
        self.timeout = timeout
        self._client = client

    def transcribe(self, audio: bytes, language: str) -> Transcript:
        from google.api_core import exceptions as gexc

        pcm = to_pcm16(audio, sample_rate=None)
        if len(pcm.pcm) > INLINE_LIMIT_BYTES:
            raise TranscriptionFailed(
                f"recording is {pcm.seconds:.0f} s ({len(pcm.pcm)} bytes as LINEAR16), over the "
                "10 MB inline limit: lower the voicemail maxLength", code="bad_audio")
        try:
            response = self._recognize(pcm, language)
        except gexc.GoogleAPICallError as exc:
            raise _failure(exc) from exc
        except gexc.RetryError as exc:
            raise TranscriptionFailed(f"Google Speech did not answer in time: {exc}",
                                      code="engine_unavailable", retryable=True) from exc
        return _transcript(response, language)

    def config(self, pcm: PcmAudio, language: str) -> Any:
        """The RecognitionConfig sent with every request."""
        from google.cloud import speech_v1

        enc = speech_v1.RecognitionConfig.AudioEncoding
        return speech_v1.RecognitionConfig(
            encoding=enc.LINEAR16, sample_rate_hertz=pcm.sample_rate, audio_channel_count=1,
            language_code=language, enable_automatic_punctuation=True,
            enable_word_time_offsets=True, enable_word_confidence=True,
            **({"model": self.model} if self.model else {}))

    def _recognize(self, pcm: PcmAudio, language: str) -> Any:
        from google.cloud import speech_v1

        client = self.client()
        config = self.config(pcm, language)
        audio = speech_v1.RecognitionAudio(content=pcm.pcm)
        if pcm.seconds <= SYNC_LIMIT_SECONDS:
            return client.recognize(config=config, audio=audio, retry=None, timeout=self.timeout)
        operation = client.long_running_recognize(config=config, audio=audio, retry=None,
                                                  timeout=self.timeout)
        return operation.result(timeout=self.timeout)

    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.endpoint)
        return self._client


def make_client(endpoint: str | None) -> Any:
    """A SpeechClient: on `endpoint` over an insecure channel (stand-in), else the real API."""
    from google.cloud import speech_v1

    if endpoint is None:
        return speech_v1.SpeechClient()
    import grpc
    from google.cloud.speech_v1.services.speech.transports import SpeechGrpcTransport

    # With a ready channel the transport ignores credentials, so no ADC lookup happens.
    return speech_v1.SpeechClient(
        transport=SpeechGrpcTransport(channel=grpc.insecure_channel(endpoint)))


def _failure(exc: Any) -> TranscriptionFailed:
    status = getattr(getattr(exc, "grpc_status_code", None), "name", "") or str(exc.code)
    retryable = status in _RETRYABLE
    code = "engine_unavailable" if retryable else "engine_error"
    hint = "will retry" if retryable else "check IVR_SPEECH_MODEL, the language and credentials"
    return TranscriptionFailed(f"Google Speech refused the request ({status}: {exc.message}); "
                               f"{hint}", code=code, retryable=retryable)


def _transcript(response: Any, language: str) -> Transcript:
    """Join the best alternative of each result; confidence is their mean (0 means unset)."""
    texts: list[str] = []
    scores: list[float] = []
    words: list[Word] = []
    for result in response.results:
        if not result.alternatives:
            continue
        best = result.alternatives[0]
        texts.append(best.transcript.strip())
        if best.confidence > 0:
            scores.append(float(best.confidence))
        words.extend(Word(text=w.word, start=w.start_time.total_seconds(),
                          end=w.end_time.total_seconds(),
                          confidence=float(w.confidence) if w.confidence > 0 else None)
                     for w in best.words)
    return Transcript(text=" ".join(t for t in texts if t),
                      confidence=sum(scores) / len(scores) if scores else None,
                      engine=ENGINE, language=language, words=tuple(words))
