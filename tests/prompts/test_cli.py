"""`ivr prompts build` and `ivr prompts status` through the real console script group."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.cli import main
from tests.prompts.conftest import CATALOG, write_catalog


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["prompts", *args])
    return result.exit_code, result.output


def test_build_prints_each_prompt_and_a_summary(catalog: Path, audio_dir: Path) -> None:
    code, out = run("build", "--catalog", str(catalog), "--out", str(audio_dir))
    assert code == 0, out
    assert "built es-US/menu (tts:es-419," in out
    lines = out.strip().splitlines()
    assert lines[-2] == f"prompts: 4 built, 0 up to date, 0 removed -> {audio_dir}"
    assert lines[-1].startswith("hold music: built, 15.0 s for 15 s loops")
    code, out = run("build", "--catalog", str(catalog), "--out", str(audio_dir))
    assert "prompts: 0 built, 4 up to date, 0 removed" in out
    assert "hold music: up to date" in out


def test_status_lists_missing_and_stale(catalog: Path, audio_dir: Path, tmp_path: Path) -> None:
    code, out = run("status", "--catalog", str(catalog), "--out", str(audio_dir))
    assert code == 0
    assert "missing  en-US/welcome" in out
    assert "0 of 4 current; run `ivr prompts build`" in out
    run("build", "--catalog", str(catalog), "--out", str(audio_dir))
    write_catalog(tmp_path, CATALOG.replace("press 2.\"", "press 3.\""))
    code, out = run("status", "--catalog", str(catalog), "--out", str(audio_dir))
    assert "stale    en-US/menu" in out
    assert "3 of 4 current" in out


def test_missing_tools_exit_1_with_the_fix(catalog: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, out = run("build", "--catalog", str(catalog), "--out", str(tmp_path / "audio"))
    assert code == 1
    assert "Error: espeak-ng and ffmpeg not found on PATH" in out
    assert "apt-get install espeak-ng ffmpeg" in out
    assert "<Say>" in out


def test_defaults_come_from_settings(catalog: Path, audio_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_PROMPTS_CATALOG", str(catalog))
    monkeypatch.setenv("IVR_PROMPTS_AUDIO_DIR", str(audio_dir))
    code, out = run("status")
    assert code == 0, out
    assert "0 of 4 current" in out
