"""Prompt editing for the admin pages (ivr/prompts/editing.py): one text changed in place with
comments kept, flows re-checked, a backup kept; uploads converted to 8 kHz mu-law and played
by the next call; TTS preview through the phone pipeline."""

from __future__ import annotations

import shutil
import struct
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.domain.errors import ConfigError, FlowError, FlowErrors, NotFound
from ivr.prompts.audio import PromptAudioError
from ivr.prompts.catalog import PromptCatalog, load_catalog
from ivr.prompts.editing import edit_catalog_text, preview_tts, save_recording, set_prompt_text
from ivr.prompts.lookup import PromptAudio

from .wavfile import read_format

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    target = tmp_path / "prompts" / "catalog.yaml"
    target.parent.mkdir()
    shutil.copy(REPO / "prompts" / "catalog.yaml", target)
    return target


def flows_ok(_catalog: PromptCatalog) -> None:
    return None


def test_edit_keeps_comments_and_other_texts(catalog_path: Path, tmp_path: Path) -> None:
    before = catalog_path.read_text()
    backup = set_prompt_text(catalog_path, "goodbye", "es-US", 'Adiós: "hasta luego"',
                             flows_ok, tmp_path / "backups", NOW)
    after = catalog_path.read_text()
    assert backup.read_text() == before
    assert load_catalog(catalog_path).text("goodbye", "es-US") == 'Adiós: "hasta luego"'
    assert load_catalog(catalog_path).text("goodbye", "en-US") == "Thank you for calling. Goodbye."
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 1
    assert after.startswith("# Everything the IVR says")


def test_missing_language_line_is_added_under_the_prompt() -> None:
    text = "prompts:\n  hello:\n    en-US: \"Hi\"\n  bye:\n    en-US: \"Bye\"\n"
    edited = edit_catalog_text(text, "hello", "es-US", "Hola")
    assert edited == ("prompts:\n  hello:\n    es-US: \"Hola\"\n    en-US: \"Hi\"\n  bye:\n"
                      "    en-US: \"Bye\"\n")
    with pytest.raises(NotFound):
        edit_catalog_text(text, "nope", "en-US", "x")


def test_refusals_change_nothing(catalog_path: Path, tmp_path: Path) -> None:
    before = catalog_path.read_text()

    def flows_break(_catalog: PromptCatalog) -> None:
        raise FlowErrors([FlowError("shop.yaml", 3, "broken")])

    with pytest.raises(FlowErrors):
        set_prompt_text(catalog_path, "goodbye", "en-US", "Bye", flows_break, tmp_path, NOW)
    with pytest.raises(ConfigError):
        set_prompt_text(catalog_path, "goodbye", "en-US", "   ", flows_ok, tmp_path, NOW)
    with pytest.raises(NotFound):
        set_prompt_text(catalog_path, "../etc", "en-US", "x", flows_ok, tmp_path, NOW)
    assert catalog_path.read_text() == before


def tone_wav(path: Path, seconds: float = 0.5, rate: int = 44100) -> Path:
    import math

    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(struct.pack("<hh", v, v) for v in (
            int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(rate * seconds))))
        out.writeframes(frames)
    return path


def test_uploaded_recording_is_converted_and_played(catalog_path: Path, tmp_path: Path) -> None:
    audio_dir = tmp_path / "audio"
    catalog = load_catalog(catalog_path)
    seconds = save_recording(catalog, catalog_path, "goodbye", "en-US",
                             tone_wav(tmp_path / "upload.wav"), audio_dir)
    assert seconds == pytest.approx(0.5, abs=0.05)
    installed = audio_dir / "en-US" / "goodbye.wav"
    fmt = read_format(installed)
    assert (fmt.format_code, fmt.channels, fmt.sample_rate, fmt.bits) == (7, 1, 8000, 8)
    assert (catalog_path.parent / "recorded" / "en-US" / "goodbye.wav").is_file()
    url = PromptAudio(audio_dir).url_path("goodbye", "en-US", catalog.text("goodbye", "en-US"))
    assert url is not None
    assert url.startswith("/prompts/en-US/goodbye.wav?v=")
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    with pytest.raises(PromptAudioError):
        save_recording(catalog, catalog_path, "goodbye", "en-US", tmp_path / "junk.wav",
                       audio_dir)


def test_tts_preview_is_phone_audio(tmp_path: Path) -> None:
    data = preview_tts("Thank you for calling.", "en-us")
    (tmp_path / "p.wav").write_bytes(data)
    fmt = read_format(tmp_path / "p.wav")
    assert (fmt.format_code, fmt.sample_rate) == (7, 8000)
    with pytest.raises(ConfigError):
        preview_tts("  ", "en-us")
