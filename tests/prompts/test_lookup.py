"""`PromptAudio.url_path`: a URL only for a built file whose text matches, else None (<Say>)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ivr.prompts.audio import MANIFEST_NAME, read_manifest
from ivr.prompts.lookup import PromptAudio
from tests.prompts.conftest import CATALOG, build, write_catalog

WELCOME_ES = "Gracias por llamar a Acme."


def test_current_prompt_gets_a_versioned_url(built, audio_dir: Path) -> None:
    audio = PromptAudio(audio_dir, catalog=None)
    manifest = read_manifest(audio_dir)
    es_welcome = manifest["es-US/welcome"]["source_sha"][:12]
    en_menu = manifest["en-US/menu"]["source_sha"][:12]
    assert es_welcome != en_menu
    assert audio.url_path("welcome", "es-US", WELCOME_ES) == (
        f"/prompts/es-US/welcome.wav?v={es_welcome}")
    assert audio.url_path("menu", "en-US", " For billing, press 1. For support, press 2.\n") == (
        f"/prompts/en-US/menu.wav?v={en_menu}")  # surrounding whitespace is not a new text
    assert audio("menu", "en-US", "For billing, press 1. For support, press 2.")  # AudioLookup


def test_other_text_language_or_id_gets_none(built, audio_dir: Path) -> None:
    audio = PromptAudio(audio_dir, None)
    assert audio.url_path("welcome", "es-US", "Gracias por llamar a Acme Corp.") is None
    assert audio.url_path("welcome", "en-US", WELCOME_ES) is None  # Spanish text, English id
    assert audio.url_path("welcome", "fr-FR", WELCOME_ES) is None
    assert audio.url_path("goodbye", "es-US", WELCOME_ES) is None


def test_missing_file_or_manifest_gets_none(built, audio_dir: Path) -> None:
    audio = PromptAudio(audio_dir, None)
    (audio_dir / "es-US/welcome.wav").unlink()
    assert audio.url_path("welcome", "es-US", WELCOME_ES) is None
    assert PromptAudio(audio_dir / "nowhere", None).url_path("menu", "en-US", "x") is None


def test_rebuild_with_new_text_is_seen_without_restart(built, tmp_path: Path,
                                                       audio_dir: Path) -> None:
    audio = PromptAudio(audio_dir, None)
    first = audio.url_path("welcome", "es-US", WELCOME_ES)
    assert first
    write_catalog(tmp_path, CATALOG.replace("llamar a Acme", "llamar a Acme Corp"))
    build(tmp_path / "catalog.yaml", audio_dir)
    assert audio.url_path("welcome", "es-US", WELCOME_ES) is None  # stale now
    second = audio.url_path("welcome", "es-US", "Gracias por llamar a Acme Corp.")
    assert second
    assert second.split("?v=")[1] != first.split("?v=")[1]


def test_corrupt_manifest_falls_back_to_say(built, audio_dir: Path, caplog) -> None:
    (audio_dir / MANIFEST_NAME).write_text("{not json")
    assert PromptAudio(audio_dir, None).url_path("welcome", "es-US", WELCOME_ES) is None
    assert "unreadable" in caplog.text


def test_manifest_is_read_once_while_unchanged(built, audio_dir: Path, monkeypatch) -> None:
    audio = PromptAudio(audio_dir, None)
    assert audio.url_path("welcome", "es-US", WELCOME_ES)
    reads = []
    monkeypatch.setattr(json, "loads", lambda *a, **k: reads.append(1) or {})
    for _ in range(3):
        assert audio.url_path("welcome", "es-US", WELCOME_ES)
    assert reads == []


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_with_check_every_the_files_are_looked_at_once_per_window(
        built, tmp_path: Path, audio_dir: Path, monkeypatch) -> None:
    """IVR_PROMPT_CHECK_EVERY: within a window the answers come from memory (no stat), a
    rebuild is heard in the next window, and each window has its own number."""
    clock = Clock()
    audio = PromptAudio(audio_dir, None, check_every=1.0, clock=clock)
    first_window = audio.window()
    first = audio.url_path("welcome", "es-US", WELCOME_ES)
    assert first
    write_catalog(tmp_path, CATALOG.replace("llamar a Acme", "llamar a Acme Corp"))
    build(tmp_path / "catalog.yaml", audio_dir)
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda *a, **k: stats.append(a) or real_stat(*a, **k))
    clock.now += 0.9
    assert audio.url_path("welcome", "es-US", WELCOME_ES) == first  # remembered: old audio
    assert stats == []
    assert audio.window() == first_window
    clock.now += 0.1
    assert audio.url_path("welcome", "es-US", WELCOME_ES) is None  # stale now
    assert audio.window() != first_window
    assert audio.url_path("welcome", "es-US", "Gracias por llamar a Acme Corp.")
    assert stats  # looked again


def test_without_check_every_every_lookup_looks(built, audio_dir: Path) -> None:
    audio = PromptAudio(audio_dir, None)
    assert audio.window() is None  # nothing may be remembered across lookups
    assert audio.url_path("welcome", "es-US", WELCOME_ES)
    (audio_dir / "es-US/welcome.wav").unlink()
    assert audio.url_path("welcome", "es-US", WELCOME_ES) is None
