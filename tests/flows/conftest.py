"""Fixtures for the shipped call flows: the real catalogue and every file in callflows/."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.prompts.catalog import PromptCatalog, load_catalog

ROOT = Path(__file__).resolve().parents[2]
FLOWS_DIR = ROOT / "callflows"
CATALOG = ROOT / "prompts" / "catalog.yaml"
FLOW_FILES = sorted(FLOWS_DIR.glob("*.yaml"))


@pytest.fixture(scope="session")
def catalog() -> PromptCatalog:
    return load_catalog(CATALOG)
