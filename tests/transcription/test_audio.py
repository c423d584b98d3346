"""audio.py: Twilio's 8 kHz mu-law WAV in, 16-bit mono PCM at the engine's rate out."""

from __future__ import annotations

import io
import math
import struct

import pytest

from ivr.domain.errors import TranscriptionFailed
from ivr.outcomes.transcription.audio import AudioSegment, decode_recording, to_pcm16
from tests.transcription.conftest import phone_wav


def _sine(freq: float, ms: int, volume: float = 0.0) -> AudioSegment:
    from pydub.generators import Sine  # after ivr.outcomes.transcription.audio loaded pydub quietly

    return Sine(freq).to_audio_segment(duration=ms, volume=volume)


def _tone_wav() -> bytes:
    return phone_wav(_sine(440, 1000, -6.0))


def test_mulaw_8k_becomes_16k_pcm16_with_the_same_duration_and_level() -> None:
    wav = _tone_wav()
    assert struct.unpack_from("<H", wav, 20)[0] == 7  # the fixture really is mu-law
    pcm = to_pcm16(wav, 16_000)
    assert pcm.sample_rate == 16_000
    assert pcm.seconds == pytest.approx(1.0, abs=0.01)
    samples = struct.unpack(f"<{len(pcm.pcm) // 2}h", pcm.pcm)
    peak = max(abs(s) for s in samples)
    # -6 dBFS is 16423; 8-bit linear decoding (pydub's own route for mu-law) would still
    # reach this peak, so also check quiet detail survives: a 16-bit decode keeps odd values.
    assert 14_000 < peak < 19_000
    assert any(s % 256 for s in samples)


def test_mulaw_decode_keeps_sixteen_bit_resolution_of_quiet_audio() -> None:
    quiet = phone_wav(_sine(440, 500, -50.0))
    pcm = to_pcm16(quiet, None)
    samples = struct.unpack(f"<{len(pcm.pcm) // 2}h", pcm.pcm)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert pcm.sample_rate == 8000
    assert 60 < rms < 150  # -50 dBFS sine: RMS about 73; an 8-bit decode gives 0 or 256 steps
    assert len(set(samples)) > 10


def test_native_rate_is_kept_when_asked() -> None:
    assert to_pcm16(_tone_wav(), None).sample_rate == 8000


def test_pcm_wav_and_stereo_are_accepted() -> None:
    buf = io.BytesIO()
    _sine(300, 400).set_channels(2).export(buf, format="wav")
    segment = decode_recording(buf.getvalue())
    assert (segment.channels, segment.sample_width) == (1, 2)


@pytest.mark.parametrize(("audio", "words"), [
    (b"", "empty"),
    (b"this is an HTML error page, not audio" * 20, "not audio"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not audio"),
])
def test_empty_or_corrupt_audio_is_a_bad_audio_failure(audio: bytes, words: str) -> None:
    with pytest.raises(TranscriptionFailed, match=words) as info:
        to_pcm16(audio)
    assert info.value.code == "bad_audio"
    assert not info.value.retryable


def test_a_few_milliseconds_is_too_short() -> None:
    blip = AudioSegment.silent(20, frame_rate=8000)
    with pytest.raises(TranscriptionFailed, match="20 ms") as info:
        to_pcm16(phone_wav(blip))
    assert info.value.code == "bad_audio"
