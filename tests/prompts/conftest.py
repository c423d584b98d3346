"""Fixtures: a two-prompt, two-language catalogue in tmp_path, and a build of it with espeak-ng.

Tests that render speech need espeak-ng and ffmpeg and fail (not skip) without them: the
project's setup installs both, and a skipped test would hide a broken prompt pipeline.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.prompts.audio import BuildReport, PromptSource, build_prompts, read_sources

CATALOG = """\
voices:
  es-US: {espeak: es-419}
prompts:
  welcome:
    en-US: "Thanks for calling Acme."
    es-US: "Gracias por llamar a Acme."
  menu:
    en-US: "For billing, press 1. For support, press 2."
    es-US: "Para facturación, marque 1. Para soporte, marque 2."
"""


def write_catalog(folder: Path, text: str = CATALOG) -> Path:
    path = folder / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def build(catalog: Path, out: Path, **kwargs: object) -> BuildReport:
    return build_prompts(read_sources(catalog), out, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return write_catalog(tmp_path)


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    return tmp_path / "audio"


@pytest.fixture
def built(catalog: Path, audio_dir: Path) -> tuple[list[PromptSource], BuildReport]:
    for tool in ("espeak-ng", "ffmpeg"):
        assert shutil.which(tool), f"{tool} is not installed: run the project setup (apt-get)"
    sources = read_sources(catalog)
    return sources, build_prompts(sources, audio_dir)
