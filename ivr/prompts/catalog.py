"""The prompt catalogue adapter: reads `prompts/catalog.yaml` into a `PromptCatalog`.

Owns the file format (`prompts: {id: {<language>: text, file: name}}`, optional
`voices: {<language>: {...}}`) and its checks. Flows name prompt ids; the flow loader resolves
them through `PromptCatalog.text` for every language a flow declares, so a missing text is a
flow validation error with the flow's file and line. `ivr.prompts.audio` reads the same object
(`ids`, `languages`, `text`). Reads a file; must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.domain.errors import ConfigError
from ivr.domain.flow.yamlsource import load_data

# Keys of a prompt entry that are not language tags.
NON_LANGUAGE_KEYS = frozenset({"file", "description"})


@dataclass(frozen=True)
class PromptCatalog:
    """Prompt texts by id and language. `text` raises KeyError when there is none."""

    texts: Mapping[str, Mapping[str, str]]
    voices: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.texts)

    @property
    def languages(self) -> tuple[str, ...]:
        found = [lang for entry in self.texts.values() for lang in entry]
        return tuple(dict.fromkeys(found))

    def text(self, prompt_id: str, language: str) -> str:
        return self.texts[prompt_id][language]

    def has(self, prompt_id: str, language: str) -> bool:
        return language in self.texts.get(prompt_id, {})


def parse_catalog(text: str, source: str = "<catalog>") -> PromptCatalog:
    """Build a catalogue from YAML text; ConfigError names the entry and the fix."""
    try:
        data = load_data(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, dict):
        raise ConfigError(f"{source}: expected `prompts:` mapping prompt ids to "
                          "{language: text}")
    texts: dict[str, dict[str, str]] = {}
    for prompt_id, entry in prompts.items():
        if not isinstance(prompt_id, str):
            raise ConfigError(f"{source}: prompt id {prompt_id!r} must be text; quote it")
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: prompt {prompt_id} must map languages to texts, "
                              "e.g. {en-US: 'Hello', es-US: 'Hola'}")
        texts[prompt_id] = {}
        for language, value in entry.items():
            if language in NON_LANGUAGE_KEYS:
                continue
            if not isinstance(value, str):
                raise ConfigError(f"{source}: prompt {prompt_id} {language}: text must be a "
                                  f"quoted string, got {value!r}")
            texts[prompt_id][str(language)] = value
    voices = data.get("voices") or {}
    return PromptCatalog(texts=texts, voices=voices if isinstance(voices, dict) else {},
                         path=source)


def load_catalog(path: str | Path) -> PromptCatalog:
    """Read the catalogue file; ConfigError when it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: prompt catalogue not found; create it (see "
                          "prompts/README.md) or set IVR_PROMPTS_CATALOG") from None
    return parse_catalog(text, str(path))
