"""Read WAV files without pydub or audioop, so the tests check the bytes Twilio receives."""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import NamedTuple


class WavFormat(NamedTuple):
    format_code: int  # 1 = PCM, 7 = mu-law
    channels: int
    sample_rate: int
    bits: int


def read_chunks(path: Path) -> dict[bytes, bytes]:
    data = path.read_bytes()
    assert data[:4] == b"RIFF", f"{path} is not RIFF"
    assert data[8:12] == b"WAVE", f"{path} is not WAVE"
    chunks, pos = {}, 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        chunks[cid] = data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    return chunks


def read_format(path: Path) -> WavFormat:
    fmt = read_chunks(path)[b"fmt "]
    code, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", fmt[:16])
    return WavFormat(code, channels, rate, bits)


def _ulaw_to_linear(byte: int) -> int:
    """G.711 mu-law decode to 16-bit (range +-32124)."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 0x07)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


def mulaw_stats(path: Path) -> tuple[float, float, float]:
    """(RMS dBFS, peak dBFS, seconds) of an 8 kHz mu-law WAV's samples."""
    samples = [_ulaw_to_linear(b) for b in read_chunks(path)[b"data"]]
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    peak = max(abs(s) for s in samples)
    to_db = lambda v: 20 * math.log10(v / 32768) if v else -math.inf  # noqa: E731
    return to_db(rms), to_db(peak), len(samples) / 8000
