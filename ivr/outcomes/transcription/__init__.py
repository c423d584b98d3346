"""Voicemail transcription: one `Transcriber` port, two engines, chosen from the environment.

Owns the `Transcript` value, the `Transcriber` protocol and `transcriber_for`. Engines
live beside it: `offline.py` (pocketsphinx with the en-US model shipped inside its wheel; for
development, demos and tests) and `google.py` (Google Cloud Speech-to-Text v1; production).
`audio.py` turns whatever Twilio's RecordingUrl serves into PCM. Must not import Flask, RQ
or Redis: the RQ job in `queue_worker/transcription.py` is the only caller that does I/O
beyond the engine itself.

Settings (fields of `ivr.config.settings.Config`, read by `transcriber_for`):

- `IVR_TRANSCRIBER`: `offline` or `google`. Default: `google` when
  `GOOGLE_APPLICATION_CREDENTIALS` or `IVR_SPEECH_ENDPOINT` is set, else `offline`.
- `IVR_SPEECH_ENDPOINT`: `host:port` of a Speech API stand-in, spoken to over plaintext gRPC
  with no credentials (`python -m ivr.outcomes.transcription.google_standin` runs one).
- `IVR_SPEECH_MODEL`: Google recognition model, e.g. `phone_call`; unset lets Google choose.
- `GOOGLE_APPLICATION_CREDENTIALS`: service-account JSON for the real API (read by google-auth).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ivr.config.settings import Config, from_env

__all__ = ["Transcriber", "Transcript", "Word", "transcriber_for", "transcriber_from_env"]


@dataclass(frozen=True)
class Word:
    """One recognised word; times in seconds from the start of the recording."""

    text: str
    start: float
    end: float
    confidence: float | None = None


@dataclass(frozen=True)
class Transcript:
    """What an engine heard. `text` is "" when the recording holds no speech.

    `confidence` is 0..1 as the engine reports it (Google: its own estimate; pocketsphinx: the
    mean word posterior), or None when the engine gave none. Scores from different engines
    are not comparable.
    """

    text: str
    confidence: float | None
    engine: str
    language: str
    words: tuple[Word, ...] = field(default=())

    def as_event_data(self) -> dict[str, Any]:
        """JSON-ready fields for the `transcript_ready` event."""
        return {
            "text": self.text,
            "confidence": self.confidence,
            "engine": self.engine,
            "language": self.language,
            "words": [asdict(w) for w in self.words],
        }


class Transcriber(Protocol):
    """Turns a recording into text.

    `audio` is the file as served (WAV 8 kHz mono PCM or mu-law from Twilio; anything ffmpeg
    reads also works). `language` is a BCP-47 tag such as `en-US` or `es-MX`.
    Raises `ivr.domain.errors.TranscriptionFailed` (with `code` and `retryable`) and nothing else
    on purpose.
    """

    name: str

    def transcribe(self, audio: bytes, language: str) -> Transcript: ...


def transcriber_from_env(environ: Mapping[str, str] | None = None) -> Transcriber:
    """The engine the environment (or `environ`) asks for: `transcriber_for(from_env(...))`."""
    return transcriber_for(from_env(environ))


def transcriber_for(config: Config) -> Transcriber:
    """The engine `config` asks for (see the settings in the module docstring); an unknown
    engine name was already refused by `from_env`, naming IVR_TRANSCRIBER."""
    endpoint = config.speech_endpoint
    has_google = bool(endpoint or config.google_application_credentials)
    choice = config.transcriber or ("google" if has_google else "offline")
    if choice == "offline":
        # Each engine is imported only when chosen: pocketsphinx loads its model, google its
        # gRPC client; a process that never transcribes loads neither.
        from ivr.outcomes.transcription.offline import OfflineTranscriber

        return OfflineTranscriber()
    from ivr.outcomes.transcription.google import GoogleTranscriber  # only when chosen

    return GoogleTranscriber(endpoint=endpoint, model=config.speech_model)
