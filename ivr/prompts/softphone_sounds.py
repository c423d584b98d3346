"""The agent console softphone's own sounds: ring, ringback, disconnect and the twelve DTMF keys,
written here as tones and timings and rendered by `ivr prompts softphone-sounds` to small MP3s
under dashboards/static/sounds/softphone/ (committed), with `sounds.json` saying what each was
built from.

Why: Twilio's Voice SDK otherwise downloads these from https://sdk.twilio.com at run time, and
the house rule is that a page loads nothing from a CDN (issue 14 item 1; docs/security.md). The
console passes their URLs as `Twilio.Device`'s `sounds` option (dashboards/softphone.py); the
names are the SDK's own (`Device.SoundName` in the vendored twilio.min.js).

This module's source is the audio: change `SOUNDS` and the next build renders the new ones (the
digest covers the parts and the pipeline; an unchanged sound is not rewritten, so another
ffmpeg/LAME version does not churn the committed files). The tones are the North American
standards: ring and ringback 440+480 Hz (2 s on, 4 s off), DTMF the row x column pairs of
ITU-T Q.23. Samples are synthesised here (phase-continuous, so a glide does not click); pydub
and ffmpeg encode them, as for the prompts and the hold music. Build only: must not import Flask.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from array import array
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ivr.config.settings import REPO_ROOT
from ivr.prompts.audio import load_pydub

RATE = 16000  # Hz: above twice the highest DTMF tone (1477 Hz) with room; MPEG-2 layer III
BITRATE = "32k"  # mono: a 150 ms key is ~1 kB, the 6 s ring ~25 kB
AMPLITUDE = 0.3  # of full scale, per sine: two together peak near -4.4 dBFS
FADE_MS = 5  # in and out of every tone: no click at the edges
PIPELINE = f"v1:{RATE}:{BITRATE}:{AMPLITUDE}:{FADE_MS}:mp3"
SOUNDS_DIR = REPO_ROOT / "dashboards" / "static" / "sounds" / "softphone"
MANIFEST = "sounds.json"


@dataclass(frozen=True)
class Part:
    """`ms` of the sines at `freqs` (Hz) together; none is silence. With `glide`, each sine
    slides linearly to the matching frequency there by the end of the part."""

    freqs: tuple[float, ...]
    ms: int
    glide: tuple[float, ...] = ()


RING = (440.0, 480.0)
ROWS = {"1": 697.0, "2": 697.0, "3": 697.0, "4": 770.0, "5": 770.0, "6": 770.0,
        "7": 852.0, "8": 852.0, "9": 852.0, "*": 941.0, "0": 941.0, "#": 941.0}
COLUMNS = {"1": 1209.0, "4": 1209.0, "7": 1209.0, "*": 1209.0, "2": 1336.0, "5": 1336.0,
           "8": 1336.0, "0": 1336.0, "3": 1477.0, "6": 1477.0, "9": 1477.0, "#": 1477.0}
DTMF_MS = 150
KEY_NAMES = {**{d: f"dtmf{d}" for d in "0123456789"}, "*": "dtmfs", "#": "dtmfh"}  # SDK's
KEY_FILES = {**{d: f"dtmf-{d}" for d in "0123456789"}, "*": "dtmf-star", "#": "dtmf-hash"}


def dtmf(key: str) -> tuple[Part, ...]:
    """The key's row and column tones together for DTMF_MS."""
    return (Part((ROWS[key], COLUMNS[key]), DTMF_MS),)


# SDK sound name -> (file name without .mp3, parts). incoming loops (the SDK's shouldLoop), so
# it is exactly one ring cadence; the SDK stops outgoing after 3 s, so it is one ringback burst
# and a second's pause; disconnect is a short falling tone (660 -> 330 Hz).
SOUNDS: dict[str, tuple[str, tuple[Part, ...]]] = {
    "incoming": ("incoming", (Part(RING, 2000), Part((), 4000))),
    "outgoing": ("outgoing", (Part(RING, 2000), Part((), 1000))),
    "disconnect": ("disconnect", (Part((660.0,), 400, glide=(330.0,)), Part((), 100))),
    **{KEY_NAMES[key]: (KEY_FILES[key], dtmf(key)) for key in KEY_NAMES},
}


def synthesise(parts: tuple[Part, ...]) -> array[int]:
    """16-bit mono samples at RATE for `parts` in order."""
    out: array[int] = array("h")
    for part in parts:
        n = round(part.ms * RATE / 1000)
        if not part.freqs:
            out.extend([0] * n)
            continue
        ends = part.glide or part.freqs
        fade = round(FADE_MS * RATE / 1000)
        phases = [0.0] * len(part.freqs)
        for i in range(n):
            level = min(1.0, i / fade, (n - 1 - i) / fade)
            value = 0.0
            for k, (start, end) in enumerate(zip(part.freqs, ends, strict=True)):
                phases[k] += 2 * math.pi * (start + (end - start) * i / n) / RATE
                value += math.sin(phases[k])
            out.append(round(32767 * AMPLITUDE * level * value))
    return out


def render(name: str) -> Any:
    """The SDK sound `name` as a pydub segment (mono, RATE)."""
    pydub = load_pydub()
    data = synthesise(SOUNDS[name][1])
    return pydub.AudioSegment(data=data.tobytes(), sample_width=2, frame_rate=RATE, channels=1)


def digest(name: str) -> str:
    """Changes whenever the sound would: its parts, its file name, the pipeline."""
    file, parts = SOUNDS[name]
    text = json.dumps([PIPELINE, file, [asdict(p) for p in parts]], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def export_mp3(segment: Any, dest: Path) -> None:
    """Write `segment` as mono MP3 (RATE, BITRATE) to `dest`, atomically; no ID3 tag, so the
    bytes depend only on the samples and the encoder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    segment.export(str(tmp), format="mp3", bitrate=BITRATE,
                   parameters=["-ar", str(RATE), "-ac", "1", "-map_metadata", "-1",
                               "-write_xing", "1", "-id3v2_version", "0"])
    os.replace(tmp, dest)


def read_manifest(out: Path) -> dict[str, Any]:
    """{name: {"file", "source_sha", "ms"}} of the built sounds; empty before the first build."""
    try:
        return dict(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["sounds"])
    except FileNotFoundError:
        return {}


def build_softphone_sounds(out: Path = SOUNDS_DIR, force: bool = False) -> list[str]:
    """Render every sound whose source changed (all with `force`) into `out`; returns the
    names built. Needs ffmpeg with an MP3 encoder (pydub)."""
    old, entries, built = read_manifest(out), {}, []
    for name, (file, parts) in SOUNDS.items():
        sha, dest = digest(name), out / f"{file}.mp3"
        entry = {"file": dest.name, "source_sha": sha, "ms": sum(p.ms for p in parts)}
        if force or old.get(name, {}).get("source_sha") != sha or not dest.is_file():
            export_mp3(render(name), dest)
            built.append(name)
        entries[name] = entry
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"pipeline": PIPELINE, "sounds": entries}, indent=2,
                              sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, out / MANIFEST)
    return built
