"""`build_prompts` with espeak-ng: format, loudness, incremental rebuilds, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr.prompts import audio
from ivr.prompts.audio import (
    MANIFEST_NAME,
    PromptAudioError,
    build_prompts,
    read_manifest,
    read_sources,
    text_digest,
)
from tests.prompts.conftest import CATALOG, build, write_catalog
from tests.prompts.wavfile import mulaw_stats, read_format

KEYS = ["en-US/welcome", "es-US/welcome", "en-US/menu", "es-US/menu"]


def test_reads_every_prompt_and_language_with_its_voice(catalog: Path) -> None:
    sources = read_sources(catalog)
    assert [s.key for s in sources] == KEYS
    assert {s.key: s.voice for s in sources} == {
        "en-US/welcome": "en-us", "es-US/welcome": "es-419",
        "en-US/menu": "en-us", "es-US/menu": "es-419"}
    assert sources[1].text == "Gracias por llamar a Acme."


def test_build_writes_8khz_mono_mulaw_for_every_prompt(built, audio_dir: Path) -> None:
    _, report = built
    assert report.built == KEYS
    for key in KEYS:
        fmt = read_format(audio_dir / f"{key}.wav")
        assert (fmt.format_code, fmt.channels, fmt.sample_rate, fmt.bits) == (7, 1, 8000, 8)


def test_speech_is_audible_normalised_and_not_clipped(built, audio_dir: Path) -> None:
    for key in KEYS:
        rms, peak, seconds = mulaw_stats(audio_dir / f"{key}.wav")
        assert -24.0 <= rms <= -17.0, (key, rms)
        assert peak <= -0.5, (key, peak)
        assert 0.8 < seconds < 8, (key, seconds)


def test_languages_get_different_audio(built, audio_dir: Path) -> None:
    en = (audio_dir / "en-US/welcome.wav").read_bytes()
    es = (audio_dir / "es-US/welcome.wav").read_bytes()
    assert en != es


def test_manifest_records_text_and_source_digests(built, audio_dir: Path) -> None:
    body = json.loads((audio_dir / MANIFEST_NAME).read_text())
    assert sorted(body["prompts"]) == sorted(KEYS)
    entry = body["prompts"]["es-US/welcome"]
    assert entry["text_sha"] == text_digest("Gracias por llamar a Acme.")
    assert entry["source"] == "tts:es-419"
    assert entry["source_sha"] != body["prompts"]["en-US/welcome"]["source_sha"]


def test_second_build_skips_everything(built, catalog: Path, audio_dir: Path) -> None:
    before = {k: (audio_dir / f"{k}.wav").stat().st_ino for k in KEYS}
    report = build(catalog, audio_dir)
    assert report.built == []
    assert report.unchanged == KEYS
    assert {k: (audio_dir / f"{k}.wav").stat().st_ino for k in KEYS} == before


def test_changed_text_rebuilds_only_that_prompt(built, tmp_path: Path, audio_dir: Path) -> None:
    old = (audio_dir / "es-US/welcome.wav").read_bytes()
    write_catalog(tmp_path, CATALOG.replace("llamar a Acme", "llamar a Acme Corp"))
    report = build(tmp_path / "catalog.yaml", audio_dir)
    assert report.built == ["es-US/welcome"]
    assert report.unchanged == ["en-US/welcome", "en-US/menu", "es-US/menu"]
    assert (audio_dir / "es-US/welcome.wav").read_bytes() != old
    assert read_manifest(audio_dir)["es-US/welcome"]["text_sha"] == text_digest(
        "Gracias por llamar a Acme Corp.")


def test_changed_voice_rebuilds_and_force_rebuilds_all(built, tmp_path: Path,
                                                       audio_dir: Path) -> None:
    write_catalog(tmp_path, CATALOG.replace("es-US: {espeak: es-419}", "es-US: {espeak: es}"))
    assert build(tmp_path / "catalog.yaml", audio_dir).built == ["es-US/welcome", "es-US/menu"]
    assert build(tmp_path / "catalog.yaml", audio_dir, force=True).built == KEYS


def test_missing_built_file_is_rebuilt(built, catalog: Path, audio_dir: Path) -> None:
    (audio_dir / "en-US/menu.wav").unlink()
    assert build(catalog, audio_dir).built == ["en-US/menu"]


def test_prompt_dropped_from_catalogue_is_removed(built, tmp_path: Path,
                                                  audio_dir: Path) -> None:
    write_catalog(tmp_path, CATALOG.split("  menu:")[0])
    report = build(tmp_path / "catalog.yaml", audio_dir)
    assert report.removed == ["en-US/menu", "es-US/menu"]
    assert not (audio_dir / "en-US/menu.wav").exists()
    assert sorted(read_manifest(audio_dir)) == ["en-US/welcome", "es-US/welcome"]


def test_unknown_voice_names_the_voice_and_the_fix(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path, 'voices:\n  en-US: {espeak: xx-nope}\n'
                                      'prompts:\n  hi:\n    en-US: "Hello"\n')
    with pytest.raises(PromptAudioError, match=r"xx-nope.*espeak-ng --voices"):
        build(catalog, tmp_path / "audio")


def test_missing_tools_fail_with_install_hint(catalog: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(PromptAudioError, match=r"espeak-ng and ffmpeg not found.*apt-get"):
        build_prompts(read_sources(catalog), tmp_path / "audio")
    assert not (tmp_path / "audio").exists()


def test_missing_catalogue_says_where(tmp_path: Path) -> None:
    with pytest.raises(PromptAudioError, match="catalog.yaml: prompt catalogue not found"):
        read_sources(tmp_path / "catalog.yaml")


def test_corrupt_manifest_stops_the_build_with_the_fix(built, catalog: Path,
                                                       audio_dir: Path) -> None:
    (audio_dir / MANIFEST_NAME).write_text("[]")
    with pytest.raises(PromptAudioError, match="not a prompt manifest.*delete it"):
        build(catalog, audio_dir)


def test_texts_come_from_the_catalogue_loader(
        catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Catalog:
        ids = ("welcome", "menu")
        languages = ("en-US", "es-US")

        def text(self, prompt_id: str, language: str) -> str:
            if (prompt_id, language) == ("menu", "es-US"):
                raise KeyError(prompt_id)
            return f"{prompt_id} in {language} from the loader"

    monkeypatch.setattr(audio, "load_catalog", lambda path: Catalog())
    sources = read_sources(catalog)
    assert [(s.key, s.text) for s in sources] == [
        ("en-US/welcome", "welcome in en-US from the loader"),
        ("es-US/welcome", "welcome in es-US from the loader"),
        ("en-US/menu", "menu in en-US from the loader"),
    ]
    assert sources[1].voice == "es-419"  # voices still read from the YAML
