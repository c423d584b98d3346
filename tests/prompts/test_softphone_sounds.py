"""The softphone's sounds (ivr/prompts/softphone_sounds.py, `ivr prompts softphone-sounds`):
the committed MP3s are current (their manifest's digests are the source's) and sound as
described. Frequency content is measured with the Goertzel algorithm (one DFT bin per probed
frequency, pure Python: no numpy in the project) on the decoded files, so a file built from
other tones, or an old build, fails."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ivr.commands.prompts import command as prompts_command
from ivr.prompts.audio import load_pydub
from ivr.prompts.softphone_sounds import (
    COLUMNS,
    KEY_NAMES,
    RATE,
    ROWS,
    SOUNDS,
    SOUNDS_DIR,
    Part,
    digest,
    export_mp3,
    read_manifest,
    render,
    synthesise,
)

PROBES = sorted({*ROWS.values(), *COLUMNS.values(), 440.0, 480.0, 350.0, 620.0})


def decoded(path: Path) -> tuple[list[int], int]:
    segment = load_pydub().AudioSegment.from_file(str(path)).set_channels(1)
    return list(segment.get_array_of_samples()), segment.frame_rate


def power(samples: list[int], rate: int, freq: float) -> float:
    """Goertzel: the squared magnitude of `freq`'s DFT bin over `samples`."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def strongest(samples: list[int], rate: int, n: int = 2) -> set[float]:
    """The `n` PROBES with the most energy."""
    return set(sorted(PROBES, key=lambda f: power(samples, rate, f), reverse=True)[:n])


def loud_edges(samples: list[int]) -> tuple[int, int]:
    """The indexes of the first and the last sample that is not near silence."""
    loud = [i for i, x in enumerate(samples) if abs(x) > 1000]
    return loud[0], loud[-1]


def tone_span(samples: list[int], rate: int) -> list[int]:
    """The part that is not silence (the encoder pads both ends)."""
    first, last = loud_edges(samples)
    return samples[first:last + 1]


# How far an encoded tone's edges may move, in samples (0.5 ms at 16 kHz). Each tone fades in
# and out over 5 ms, and MP3's quantisation error shifts where the fade crosses loud_edges'
# threshold by a few samples (0 to 4 measured over the committed files). The decoded length is
# exact: the Xing/LAME header tells the decoder the encoder's delay and padding.
EDGE_SAMPLES = 8


def assert_tone_edges(samples: list[int], rate: int, parts: tuple[Part, ...]) -> None:
    """`samples` decoded are `parts` synthesised now: the same length exactly, and the tone
    starting and ending where it does there, within EDGE_SAMPLES."""
    assert rate == RATE
    expected = list(synthesise(parts))
    assert len(samples) == len(expected)
    for got, want in zip(loud_edges(samples), loud_edges(expected), strict=True):
        assert abs(got - want) <= EDGE_SAMPLES, (loud_edges(samples), loud_edges(expected))


def committed(name: str) -> Path:
    return SOUNDS_DIR / f"{SOUNDS[name][0]}.mp3"


def test_the_committed_sounds_are_built_from_the_current_source():
    manifest = read_manifest(SOUNDS_DIR)
    assert set(manifest) == set(SOUNDS)
    for name in SOUNDS:
        assert manifest[name]["source_sha"] == digest(name), (
            f"{name} changed: run `ivr prompts softphone-sounds` and commit the files")
        assert committed(name).is_file()


@pytest.mark.parametrize("key", list(KEY_NAMES))
def test_each_dtmf_file_has_its_row_and_column_tone(key: str):
    samples, rate = decoded(committed(KEY_NAMES[key]))
    span = tone_span(samples, rate)
    assert strongest(span, rate) == {ROWS[key], COLUMNS[key]}
    assert_tone_edges(samples, rate, (Part((ROWS[key], COLUMNS[key]), 150),))  # 150 ms


def test_a_regenerated_tone_matches_the_committed_file(tmp_path: Path):
    """dtmf5 rendered again now and the committed file: same strongest pair (770 + 1336 Hz),
    same tone length, and the same share of energy in each of the two."""
    fresh = tmp_path / "dtmf-5.mp3"
    export_mp3(render("dtmf5"), fresh)
    measured: list[Any] = []
    for path in (fresh, committed("dtmf5")):
        samples, rate = decoded(path)
        span = tone_span(samples, rate)
        low, high = power(span, rate, 770.0), power(span, rate, 1336.0)
        measured.append((strongest(span, rate), len(span), low / (low + high)))
    (pair_a, len_a, share_a), (pair_b, len_b, share_b) = measured
    assert pair_a == pair_b == {770.0, 1336.0}
    assert abs(len_a - len_b) <= 16  # a millisecond at 16 kHz
    assert abs(share_a - share_b) < 0.02


def test_the_ring_is_440_and_480_two_seconds_on_four_off():
    samples, rate = decoded(committed("incoming"))
    span = tone_span(samples, rate)
    assert strongest(span, rate) == {440.0, 480.0}
    # two seconds of ring, then four of quiet: one loop of the cadence, six seconds exactly
    assert_tone_edges(samples, rate, (Part((440.0, 480.0), 2000), Part((), 4000)))


def test_disconnect_falls():
    samples, rate = decoded(committed("disconnect"))
    span = tone_span(samples, rate)
    first, last = span[:len(span) // 4], span[-len(span) // 4:]
    assert power(first, rate, 620.0) > 10 * power(first, rate, 350.0)
    assert power(last, rate, 350.0) > 10 * power(last, rate, 620.0)


def test_the_command_builds_into_a_folder_then_says_up_to_date(tmp_path: Path):
    runner = CliRunner()
    first = runner.invoke(prompts_command, ["softphone-sounds", "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "15 built, 0 up to date" in first.output
    assert sorted(p.name for p in tmp_path.glob("*.mp3")) == sorted(
        f"{file}.mp3" for file, _ in SOUNDS.values())
    again = runner.invoke(prompts_command, ["softphone-sounds", "--out", str(tmp_path)])
    assert "0 built, 15 up to date" in again.output
