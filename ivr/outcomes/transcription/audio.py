"""Recording bytes to raw PCM for the speech engines, with pydub (ffmpeg for mu-law and others).

Owns `decode_recording` and `to_pcm16`. Twilio serves voicemail as WAV, 8 kHz mono, PCM or
mu-law (G.711); engines want signed 16-bit little-endian mono PCM at a known rate. Empty,
truncated or undecodable input is `TranscriptionFailed(code="bad_audio")`, never an engine
error, so the job can tell "bad file" from "engine down". Imports nothing from the engines.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

# pydub imports the stdlib `audioop`, deprecated on Python 3.11-3.12 (3.13+ gets audioop-lts);
# the warning is pydub's to fix, and `filterwarnings = error` in the test suite would turn it
# into an import error. Same approach as ivr/prompts/audio.py: load_pydub.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="'audioop' is deprecated",
                            category=DeprecationWarning)
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError
    from pydub.utils import audioop  # whichever audioop pydub found

from ivr.domain.errors import TranscriptionFailed

__all__ = ["AudioSegment", "PcmAudio", "decode_recording", "pcm_to_wav", "peak_dbfs",
           "to_pcm16"]
ENGINE_RATE = 16_000  # Hz: pocketsphinx's en-US model is a 16 kHz wideband model
MIN_MS = 100  # shorter than this is a broken recording, not a message


@dataclass(frozen=True)
class PcmAudio:
    """Signed 16-bit little-endian mono samples at `sample_rate` Hz."""

    pcm: bytes
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * self.sample_rate)


def decode_recording(audio: bytes) -> AudioSegment:
    """The recording as mono 16-bit audio at its own sample rate.

    Raises TranscriptionFailed(code="bad_audio") for no bytes, bytes no decoder reads, or
    fewer than MIN_MS milliseconds of audio.
    """
    if not audio:
        raise TranscriptionFailed(
            "recording is empty (0 bytes): check the RecordingUrl and that the call recorded "
            "anything", code="bad_audio")
    fmt = "wav" if audio[:4] == b"RIFF" else None  # else let ffmpeg probe (mp3 from Twilio)
    try:
        segment = _from_g711_wav(audio) or AudioSegment.from_file(io.BytesIO(audio), format=fmt)
    except (CouldntDecodeError, EOFError, IndexError, ValueError, struct.error) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TranscriptionFailed(
            f"recording ({len(audio)} bytes) is not audio ffmpeg can read ({first_line}): "
            "fetch it with '.wav' appended to the RecordingUrl", code="bad_audio") from exc
    if len(segment) < MIN_MS:
        raise TranscriptionFailed(
            f"recording holds {len(segment)} ms of audio (needs at least {MIN_MS} ms): the file "
            "is truncated or the caller hung up at once", code="bad_audio")
    return segment.set_channels(1).set_sample_width(2)


def _from_g711_wav(audio: bytes) -> AudioSegment | None:
    """Decode a mu-law or A-law WAV (Twilio's 8 kHz format) to 16-bit; None for other files.

    pydub hands such files to ffmpeg asking for `pcm_u8` (it reads "8 bits per sample" from
    the header), which throws away most of G.711's dynamic range; decoding here keeps 16 bits
    and skips an ffmpeg process.
    """
    if audio[:4] != b"RIFF" or audio[8:12] != b"WAVE":
        return None
    chunks = _wav_chunks(audio)
    fmt, data = chunks.get(b"fmt "), chunks.get(b"data")
    if fmt is None or data is None or len(fmt) < 16:
        return None
    tag, channels, rate = struct.unpack_from("<HHI", fmt)
    decoders = {7: audioop.ulaw2lin, 6: audioop.alaw2lin}
    if tag not in decoders:
        return None
    pcm = decoders[tag](data[: len(data) - len(data) % channels], 2)
    return AudioSegment(pcm, sample_width=2, frame_rate=rate, channels=channels)


def _wav_chunks(audio: bytes) -> dict[bytes, bytes]:
    """RIFF chunks by id; a truncated last chunk keeps the bytes that arrived."""
    chunks: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(audio):
        cid, size = struct.unpack_from("<4sI", audio, pos)
        chunks.setdefault(cid, audio[pos + 8: pos + 8 + size])
        pos += 8 + size + (size & 1)
    return chunks


def to_pcm16(audio: bytes, sample_rate: int | None = ENGINE_RATE) -> PcmAudio:
    """Decode and resample to `sample_rate` Hz (None keeps the recording's own rate)."""
    segment = decode_recording(audio)
    if sample_rate is not None and segment.frame_rate != sample_rate:
        segment = segment.set_frame_rate(sample_rate)
    return PcmAudio(pcm=segment.raw_data, sample_rate=segment.frame_rate)


def peak_dbfs(pcm: PcmAudio) -> float:
    """Loudest sample in dBFS (-inf for digital silence)."""
    return float(AudioSegment(pcm.pcm, sample_width=2, frame_rate=pcm.sample_rate,
                              channels=1).max_dBFS)


def pcm_to_wav(pcm: PcmAudio) -> bytes:
    """A WAV file around raw PCM (the stand-in hands LINEAR16 content to the offline engine)."""
    out = io.BytesIO()
    AudioSegment(pcm.pcm, sample_width=2, frame_rate=pcm.sample_rate,
                 channels=1).export(out, format="wav")
    return out.getvalue()
