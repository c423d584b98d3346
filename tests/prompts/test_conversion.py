"""Conversion and loudness on generated tones (no TTS), and recorded files that win over TTS."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.prompts.audio import (
    PromptAudioError,
    export_mulaw,
    load_pydub,
    normalise_loudness,
    read_manifest,
    to_phone_audio,
)
from tests.prompts.conftest import CATALOG, build, write_catalog
from tests.prompts.wavfile import mulaw_stats, read_format


def tone(volume_dbfs: float, ms: int = 1000, rate: int = 44100) -> object:
    load_pydub()  # first import, with the audioop deprecation warning filtered
    from pydub.generators import Sine

    return Sine(440, sample_rate=rate).to_audio_segment(duration=ms, volume=volume_dbfs)


@pytest.mark.parametrize("volume", [-40.0, -20.0, -6.0])
def test_tone_is_converted_to_phone_format_at_target_loudness(volume: float,
                                                               tmp_path: Path) -> None:
    stereo = tone(volume).set_channels(2)
    out = tmp_path / "tone.wav"
    export_mulaw(to_phone_audio(stereo), out)
    fmt = read_format(out)
    assert (fmt.format_code, fmt.channels, fmt.sample_rate, fmt.bits) == (7, 1, 8000, 8)
    rms, peak, seconds = mulaw_stats(out)
    assert -21.0 <= rms <= -19.0, rms
    assert peak <= -1.0 + 0.5
    assert seconds == pytest.approx(1.0, abs=0.01)


def test_gain_stops_at_the_peak_ceiling() -> None:
    # A 20 ms click in 2 s of quiet hum: reaching -20 dBFS RMS would clip the click.
    spiky = tone(-50.0, ms=2000).overlay(tone(-3.0, ms=20), position=1000)
    louder = normalise_loudness(spiky)
    assert louder.max_dBFS == pytest.approx(-1.0, abs=0.1)
    assert louder.dBFS < -20.0


def test_silence_is_refused() -> None:
    silent = load_pydub().AudioSegment.silent(duration=500, frame_rate=8000)
    with pytest.raises(PromptAudioError, match="silent"):
        to_phone_audio(silent)


def recorded(folder: Path, language: str, name: str, volume: float = -30.0) -> Path:
    path = folder / "recorded" / language / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tone(volume, ms=1500).export(str(path), format="wav")
    return path


CATALOG_WITH_FILE = CATALOG.replace(
    '    es-US: "Gracias por llamar a Acme."\n',
    '    es-US: "Gracias por llamar a Acme."\n    file: welcome.wav\n')


def test_recording_wins_over_tts_in_its_language_only(tmp_path: Path) -> None:
    recorded(tmp_path, "en-US", "welcome.wav")
    report = build(write_catalog(tmp_path, CATALOG_WITH_FILE), tmp_path / "audio")
    manifest = read_manifest(tmp_path / "audio")
    assert manifest["en-US/welcome"]["source"] == "recorded:welcome.wav"
    assert manifest["es-US/welcome"]["source"] == "tts:es-419"  # not recorded in Spanish
    assert len(report.built) == 4
    rms, _, seconds = mulaw_stats(tmp_path / "audio/en-US/welcome.wav")
    assert seconds == pytest.approx(1.5, abs=0.01)
    assert -21.0 <= rms <= -19.0


def test_new_recording_rebuilds_and_text_edit_is_flagged(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, CATALOG_WITH_FILE)
    recorded(tmp_path, "en-US", "welcome.wav")
    build(catalog, tmp_path / "audio")
    recorded(tmp_path, "en-US", "welcome.wav", volume=-10.0)
    assert build(catalog, tmp_path / "audio").built == ["en-US/welcome"]
    write_catalog(tmp_path, CATALOG_WITH_FILE.replace("Thanks for", "Thank you for"))
    report = build(catalog, tmp_path / "audio")
    assert report.built == ["en-US/welcome"]
    assert len(report.notes) == 1
    assert "re-record" in report.notes[0]


def test_unreadable_recording_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "recorded/en-US/welcome.wav"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not audio at all")
    with pytest.raises(PromptAudioError, match=r"welcome\.wav: ffmpeg cannot read"):
        build(write_catalog(tmp_path, CATALOG_WITH_FILE), tmp_path / "audio")


def test_recording_name_must_be_a_plain_file_name(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, CATALOG_WITH_FILE.replace(
        "file: welcome.wav", "file: ../../etc/passwd"))
    with pytest.raises(PromptAudioError, match="plain file name"):
        build(catalog, tmp_path / "audio")
