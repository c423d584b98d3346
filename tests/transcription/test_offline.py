"""The offline engine (pocketsphinx, model from its wheel) on espeak speech as a phone records it.

pocketsphinx on synthetic 8 kHz speech is rough: the assertions pick the words it reliably
gets ("my order") and check that recordings without them (other speech, silence, hiss) do not
produce them, so a decoder that always says "order" fails.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from pydub import AudioSegment

from ivr.domain.errors import TranscriptionFailed
from ivr.outcomes.transcription import Transcriber, transcriber_from_env
from ivr.outcomes.transcription.offline import OfflineTranscriber
from tests.transcription.conftest import OTHER_SENTENCE

EXPECTED = {"my", "order"}


def _words(text: str) -> set[str]:
    return set(text.lower().replace(",", " ").replace(".", " ").split())


def test_speech_about_an_order_is_heard(offline: OfflineTranscriber, order_wav: bytes) -> None:
    transcript = offline.transcribe(order_wav, "en-US")
    assert EXPECTED <= _words(transcript.text), transcript.text
    assert transcript.engine == "pocketsphinx"
    assert transcript.language == "en-US"
    assert transcript.confidence is not None
    assert 0.0 < transcript.confidence <= 1.0
    order = next(w for w in transcript.words if w.text == "order")
    my = next(w for w in transcript.words if w.text == "my")
    clip = AudioSegment.from_file(io.BytesIO(order_wav), format="wav").duration_seconds
    # espeak says "my order" last: "my" ends before "order" starts, and "order" lies in the
    # clip's second half (word times are seconds into the recording, not frames or ms)
    assert my.end <= order.start < order.end <= clip + 0.05
    assert order.start > clip / 2
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)


def test_other_speech_does_not_produce_the_expected_words(
        offline: OfflineTranscriber, speak: Callable[[str], bytes]) -> None:
    transcript = offline.transcribe(speak(OTHER_SENTENCE), "en-US")
    assert transcript.text  # it hears something...
    assert not EXPECTED & _words(transcript.text)  # ...but not an order


def test_silence_is_an_empty_transcript(offline: OfflineTranscriber, silence_wav: bytes) -> None:
    transcript = offline.transcribe(silence_wav, "en-US")
    assert transcript.text == ""
    assert transcript.words == ()
    assert transcript.confidence is None


def test_line_hiss_reaches_the_decoder_and_yields_no_expected_words(
        offline: OfflineTranscriber, noise_wav: bytes) -> None:
    transcript = offline.transcribe(noise_wav, "en-US")
    assert not EXPECTED & _words(transcript.text)


def test_other_english_regions_use_the_us_model(offline: OfflineTranscriber,
                                                order_wav: bytes) -> None:
    assert "order" in _words(offline.transcribe(order_wav, "en-GB").text)


@pytest.mark.parametrize("language", ["es-MX", "es-US", "fr-CA"])
def test_other_languages_are_a_clear_unsupported_failure(
        offline: OfflineTranscriber, order_wav: bytes, language: str) -> None:
    with pytest.raises(TranscriptionFailed, match="only has an English model") as info:
        offline.transcribe(order_wav, language)
    assert info.value.code == "unsupported_language"
    assert not info.value.retryable


def test_bad_audio_fails_before_the_decoder(offline: OfflineTranscriber) -> None:
    with pytest.raises(TranscriptionFailed) as info:
        offline.transcribe(b"<html>404</html>", "en-US")
    assert info.value.code == "bad_audio"


@pytest.mark.parametrize(("env", "engine"), [
    ({}, "pocketsphinx"),
    ({"GOOGLE_APPLICATION_CREDENTIALS": "/etc/sa.json"}, "google"),
    ({"IVR_SPEECH_ENDPOINT": "127.0.0.1:1"}, "google"),
    ({"IVR_TRANSCRIBER": "offline", "GOOGLE_APPLICATION_CREDENTIALS": "/x.json"}, "pocketsphinx"),
    ({"IVR_TRANSCRIBER": "Google"}, "google"),
])
def test_engine_is_chosen_from_the_environment(env: dict[str, str], engine: str) -> None:
    transcriber: Transcriber = transcriber_from_env(env)
    assert transcriber.name == engine


def test_an_unknown_engine_name_is_a_config_error() -> None:
    from ivr.domain.errors import ConfigError

    with pytest.raises(ConfigError, match="'offline' or 'google'"):
        transcriber_from_env({"IVR_TRANSCRIBER": "whisper"})
