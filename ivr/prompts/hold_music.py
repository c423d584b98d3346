"""The project's own hold music: a gentle I-vi-IV-V arpeggio in C major, written here as notes
and tempo and rendered by `ivr prompts build` to `<audio>/music/hold.wav` (8 kHz mu-law, like
the prompts), with `music/hold.json` saying what it was built from and how long it is.

This module's source is the music: change `PIECE` and the next build renders the new one
(the digest covers the piece and the pipeline). Everything sits in the telephone band
(about 300-3,400 Hz: nothing below middle C's octave would be heard), each note a sine with a
soft second harmonic, a quick attack and a long fade, so it sounds like a music box rather than
a test tone. The piece is as many whole bars as fit in one hold loop (IVR_HOLD_PAUSE): at 64
beats a minute a bar is 3.75 s, so the default 15 s loop holds the four chords once, and the
last chord leads back to the first when the loop starts again.

Build only (pydub, ffmpeg); the serving half is `ivr/phone/hold_audio.py`. Must not import Flask.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ivr.prompts.audio import PIPELINE, SAMPLE_RATE, export_mulaw, load_pydub, normalise_loudness

MUSIC_DIR = "music"
HOLD_NAME = "hold"
HOLD_DBFS = -24.0  # quieter than the prompts (-20): music under the announcements, not over

NOTE_INDEX = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


@dataclass(frozen=True)
class Piece:
    tempo: int  # beats per minute
    beats_per_bar: int
    steps_per_beat: int  # arpeggio notes per beat (2: eighth notes)
    chords: tuple[tuple[str, ...], ...]  # one chord a bar, notes low to high
    pattern: tuple[int, ...]  # which chord note each arpeggio step plays
    ring: float  # how many steps a note rings on (overlapping: a soft, sustained sound)
    pad_gain: float  # dB of the held chord under the arpeggio

    @property
    def bar_seconds(self) -> float:
        return self.beats_per_bar * 60.0 / self.tempo

    @property
    def step_ms(self) -> float:
        return 60_000.0 / self.tempo / self.steps_per_beat


PIECE = Piece(
    tempo=64, beats_per_bar=4, steps_per_beat=2,
    chords=(("C4", "E4", "G4", "B4", "C5"),   # Cmaj7
            ("A3", "C4", "E4", "G4", "A4"),   # Am7
            ("F3", "A3", "C4", "E4", "F4"),   # Fmaj7
            ("G3", "B3", "D4", "F4", "G4")),  # G7, back to C
    pattern=(0, 2, 4, 3, 1, 2, 3, 2),
    ring=3.0, pad_gain=-14.0,
)


def frequency(note: str) -> float:
    """Equal temperament, A4 = 440 Hz; `note` is a letter, optional # or b, and an octave."""
    letter, accidental, octave = note[0], note[1:-1], int(note[-1])
    semitone = NOTE_INDEX[letter] + {"": 0, "#": 1, "b": -1}[accidental]
    return 440.0 * 2 ** ((semitone - 9) / 12 + (octave - 4))


def bars_for(hold_pause: float, piece: Piece = PIECE) -> int:
    """Whole bars that fit in one hold loop, at least one."""
    return max(1, int(hold_pause // piece.bar_seconds))


def render(bars: int, piece: Piece = PIECE) -> Any:
    """`bars` bars of the piece (the chords cycle) as a mono 8 kHz pydub segment."""
    pydub = load_pydub()
    length = round(bars * piece.bar_seconds * 1000)
    song = pydub.AudioSegment.silent(duration=length, frame_rate=SAMPLE_RATE)
    steps = piece.beats_per_bar * piece.steps_per_beat
    for bar in range(bars):
        chord = piece.chords[bar % len(piece.chords)]
        start = bar * piece.bar_seconds * 1000
        for note in chord[1:4]:  # the held chord: a quiet pad over the whole bar
            song = song.overlay(_tone(note, round(piece.bar_seconds * 1000), 400)
                                .apply_gain(piece.pad_gain), position=round(start))
        for step in range(steps):
            note = chord[piece.pattern[step % len(piece.pattern)] % len(chord)]
            at = round(start + step * piece.step_ms)
            song = song.overlay(_tone(note, round(piece.step_ms * piece.ring), 10),
                                position=at)
    return song[:length]


@lru_cache(maxsize=64)
def _tone(note: str, ms: int, attack_ms: int) -> Any:
    """One note: a sine with its second harmonic 12 dB down, faded in and out."""
    from pydub.generators import Sine

    load_pydub()
    f = frequency(note)
    tone = Sine(f, sample_rate=SAMPLE_RATE).to_audio_segment(duration=ms, volume=-18.0)
    tone = tone.overlay(Sine(2 * f, sample_rate=SAMPLE_RATE).to_audio_segment(
        duration=ms, volume=-30.0))
    return tone.fade_in(attack_ms).fade_out(ms - attack_ms)


def digest(bars: int, piece: Piece = PIECE) -> str:
    """Changes whenever the audio would: the notes, the length, the pipeline."""
    text = json.dumps([PIPELINE, HOLD_DBFS, bars, asdict(piece)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def music_paths(audio_dir: Path) -> tuple[Path, Path]:
    """(the WAV, its JSON description) under the prompt audio folder."""
    folder = Path(audio_dir) / MUSIC_DIR
    return folder / f"{HOLD_NAME}.wav", folder / f"{HOLD_NAME}.json"


def build_hold_music(audio_dir: Path, hold_pause: float, force: bool = False) -> dict[str, Any]:
    """Render the hold music for loops of `hold_pause` seconds unless the built one is current.
    Returns its description ({"source_sha", "seconds", "built"}). Needs ffmpeg (pydub)."""
    wav, info = music_paths(audio_dir)
    bars = bars_for(hold_pause)
    sha = digest(bars)
    if not force and wav.is_file() and info.is_file():
        old = json.loads(info.read_text(encoding="utf-8"))
        if old.get("source_sha") == sha:
            return {**old, "built": False}
    phone = normalise_loudness(render(bars), target_dbfs=HOLD_DBFS)
    export_mulaw(phone, wav)
    described = {"source_sha": sha, "seconds": round(len(phone) / 1000, 2), "bars": bars}
    tmp = info.with_name(f".{info.name}.tmp")
    tmp.write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, info)
    return {**described, "built": True}
