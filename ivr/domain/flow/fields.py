"""Reading one field of a flow file: type checks with the YAML traps, and prompt references.

`Reader` converts composed YAML nodes by the kinds declared in `schema.py` and records every
problem (with its line) instead of stopping at the first. Prompt references are resolved here
against the catalogue for every language of the flow, so a loaded flow carries all its texts.
Pure: the catalogue is passed in as an object with `text(prompt_id, language)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from ivr.domain.flow.model import Prompt
from ivr.domain.flow.templating import Template, TemplateError, parse_template
from ivr.domain.flow.yamlsource import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    STR_TAG,
    Problems,
    as_list,
    items,
    line_of,
)

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class PromptTexts(Protocol):
    """The prompt catalogue as the loader needs it (`ivr.prompts.catalog.PromptCatalog`)."""

    def text(self, prompt_id: str, language: str) -> str:
        """The text of `prompt_id` in `language`; KeyError when the catalogue has none."""
        ...


def _kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {INT_TAG: "a number", FLOAT_TAG: "a number", BOOL_TAG: "true/false"}.get(
        node.tag, "text")


@dataclass
class Reader:
    problems: Problems
    catalog: PromptTexts
    languages: tuple[str, ...] = ()
    _templates: dict[str, Template | None] = field(default_factory=dict)

    # -- scalars -----------------------------------------------------------------------------

    def _scalar(self, node: yaml.Node, what: str, tags: tuple[str, ...], want: str) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.tag in tags:
            return yaml.SafeLoader("").construct_object(node)
        if isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG and ":" in node.value:
            self.problems.at(node, f"{what}: {node.value} is read as the number "
                                   f"{_sexagesimal(node.value)} (YAML 1.1); quote it: "
                                   f"'{node.value}'")
        else:
            self.problems.at(node, f"{what} must be {want}, not {_kind_of(node)}")
        return None

    def text(self, node: yaml.Node, what: str) -> str | None:
        value = self._scalar(node, what, (STR_TAG,), "text")
        return None if value is None else str(value)

    def integer(self, node: yaml.Node, what: str) -> int | None:
        value = self._scalar(node, what, (INT_TAG,), "a whole number")
        return None if value is None else int(value)

    def number(self, node: yaml.Node, what: str) -> float | None:
        value = self._scalar(node, what, (INT_TAG, FLOAT_TAG), "a number")
        return None if value is None else float(value)

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        value = self._scalar(node, what, (BOOL_TAG,), "true or false")
        return None if value is None else bool(value)

    def target(self, node: yaml.Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not (NODE_ID.match(value) or value in
                                      ("_fallback", "_voicemail", "_goodbye")):
            self.problems.at(node, f"{what}: {value!r} is not a node id (letters, digits, _ "
                                   "and -, starting with a letter)")
        return value

    def phone(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG:
            self.problems.at(node, f"{what}: {node.value} is read as a number and loses its "
                                   f"'+'; quote it: '{node.value}'")
            return None
        value = self.text(node, what)
        if value is not None and not E164.match(value):
            self.problems.at(node, f"{what}: {value!r} is not an E.164 number like "
                                   "'+14155550100'")
            return None
        return value

    def texts(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        return tuple(t for t in (self.text(n, what) for n in as_list(node)) if t is not None)

    def template(self, text: str, node: yaml.Node, what: str) -> Template | None:
        """Parse once per distinct text, so one bad text shared by languages or nodes is
        reported once, at its first use."""
        if text in self._templates:
            return self._templates[text]
        try:
            self._templates[text] = parse_template(text)
        except TemplateError as exc:
            self._templates[text] = None
            self.problems.at(node, f"{what}: {exc}")
        return self._templates[text]

    # -- prompts -----------------------------------------------------------------------------

    def prompts(self, node: yaml.Node, what: str) -> tuple[Prompt, ...]:
        """`greeting`, `{prompt: id, text: ...}`, `{text: {en-US: ..., es-US: ...}}` or a
        list of those. Every language of the flow must end up with a text."""
        found = (self.prompt(n, what) for n in as_list(node))
        return tuple(p for p in found if p is not None)

    def prompt(self, node: yaml.Node, what: str) -> Prompt | None:
        prompt_id: str | None = None
        inline: dict[str, str] = {}
        if isinstance(node, yaml.ScalarNode):
            prompt_id = self.text(node, what)
        else:
            for key, _, value in items(node, self.problems, what):
                if key == "prompt":
                    prompt_id = self.text(value, f"{what}.prompt")
                elif key == "text":
                    inline = self._inline(value, f"{what}.text")
                else:
                    self.problems.at(value, f"{what}: unknown key {key!r}; use prompt or text")
        if prompt_id is None and not inline:
            return None
        return Prompt(prompt_id, self._texts(prompt_id, inline, node, what), line_of(node))

    def _inline(self, node: yaml.Node, what: str) -> dict[str, str]:
        if isinstance(node, yaml.ScalarNode):
            value = self.text(node, what)
            return {"*": value} if value is not None else {}
        pairs = ((lang, self.text(v, f"{what}.{lang}")) for lang, _, v in
                 items(node, self.problems, what))
        return {lang: text for lang, text in pairs if text is not None}

    def _texts(self, prompt_id: str | None, inline: Mapping[str, str], node: yaml.Node,
               what: str) -> dict[str, Template]:
        texts: dict[str, Template] = {}
        for language in self.languages:
            text = self._catalog_text(prompt_id, language) if prompt_id else None
            text = text if text is not None else inline.get(language, inline.get("*"))
            if text is None:
                self.problems.at(node, f"{what}: prompt {prompt_id!r} has no {language} text "
                                       "in prompts/catalog.yaml; add it there or give an "
                                       "inline text")
                continue
            template = self.template(text, node, f"{what} ({language})")
            if template is not None:
                texts[language] = template
        return texts

    def _catalog_text(self, prompt_id: str, language: str) -> str | None:
        try:
            return self.catalog.text(prompt_id, language)
        except KeyError:
            return None


def _sexagesimal(text: str) -> int:
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part or 0)
    return total


Convert = Callable[[Reader, yaml.Node, str], Any]

CONVERTERS: Mapping[str, Convert] = {
    "text": Reader.text,
    "int": Reader.integer,
    "number": Reader.number,
    "bool": Reader.boolean,
    "target": Reader.target,
    "phone": Reader.phone,
    "texts": Reader.texts,
    "prompts": Reader.prompts,
}
