"""Safe templates for prompt texts: `{{ order.total | money }}`, nothing more.

A placeholder is a dotted name (looked up in mappings only, as in conditions) and optional
filters from `FILTERS`; there are no expressions, calls or attribute access, so a template
from a flow file cannot run code. Templates are parsed when the flow loads (bad ones are
validation errors with a line) and rendered per call in the call's language. A missing value
renders as "" unless a `default('...')` filter gives one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.domain.flow import spoken
from ivr.domain.flow.conditions import resolve

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*")
_FILTER = re.compile(r"([a-z_]+)(?:\(\s*(?:'([^']*)'|\"([^\"]*)\")\s*\))?")

Filter = Callable[[Any, str, str], str]

FILTERS: Mapping[str, Filter] = {
    "money": lambda v, lang, arg: spoken.money_words(v, lang),
    "number": lambda v, lang, arg: spoken.number_words(v, lang),
    "digits": lambda v, lang, arg: spoken.digit_words(v, lang),
    "date": lambda v, lang, arg: spoken.date_words(v, lang),
    "time": lambda v, lang, arg: spoken.time_words(v, lang),
    "datetime": lambda v, lang, arg: spoken.datetime_words(v, lang),
    "default": lambda v, lang, arg: arg if v in (None, "") else str(v),
}
"""Filter name -> (value, language, argument) -> text. Documented in callflows/README.md."""


class TemplateError(ValueError):
    """A placeholder is not a name with known filters; the message says which part."""


@dataclass(frozen=True)
class Placeholder:
    path: tuple[str, ...]
    filters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Template:
    """Text parts and placeholders in order; `source` keeps the original text for messages."""

    source: str
    parts: tuple[str | Placeholder, ...]
    fixed: str | None = field(default=None, init=False, compare=False, repr=False)
    """The rendered text of a template without placeholders (most prompts), worked out once
    when it is parsed: rendering it is then a field read, not a join and a regex per call."""

    def __post_init__(self) -> None:
        if all(isinstance(part, str) for part in self.parts):
            object.__setattr__(self, "fixed", _tidy("".join(self.parts)))  # type: ignore[arg-type]

    @property
    def names(self) -> list[tuple[str, ...]]:
        return [p.path for p in self.parts if isinstance(p, Placeholder)]


def _placeholder(inner: str) -> Placeholder:
    name, *filters = [piece.strip() for piece in inner.split("|")]
    if not _NAME.fullmatch(name):
        raise TemplateError(f"{{{{{inner}}}}}: {name!r} is not a name like order.total; "
                            "templates hold names and filters only")
    parsed = []
    for text in filters:
        match = _FILTER.fullmatch(text)
        if match is None or match.group(1) not in FILTERS:
            raise TemplateError(f"{{{{{inner}}}}}: unknown filter {text!r}; "
                                f"use one of {', '.join(FILTERS)}")
        parsed.append((match.group(1), match.group(2) or match.group(3) or ""))
    return Placeholder(tuple(name.split(".")), tuple(parsed))


def parse_template(text: str) -> Template:
    """Split `text` into literal parts and placeholders, or raise TemplateError."""
    parts: list[str | Placeholder] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        parts.append(_placeholder(match.group(1).strip()))
        pos = match.end()
    rest = text[pos:]
    if "{{" in rest or "}}" in rest:
        raise TemplateError(f"unbalanced braces in {text!r}; write {{{{ name }}}}")
    if rest:
        parts.append(rest)
    return Template(text, tuple(parts))


def render_value(placeholder: Placeholder, context: Mapping[str, Any], language: str) -> str:
    value = resolve(context, placeholder.path)
    for name, arg in placeholder.filters:
        if value in (None, "") and name != "default":
            continue
        value = FILTERS[name](value, language, arg)
    return "" if value is None else str(value)


def render(template: Template, context: Mapping[str, Any], language: str) -> str:
    """The text with every placeholder filled in, whitespace runs collapsed."""
    if template.fixed is not None:
        return template.fixed
    out = [part if isinstance(part, str) else render_value(part, context, language)
           for part in template.parts]
    return _tidy("".join(out))


_SPACES = re.compile(r"\s+")


def _tidy(text: str) -> str:
    """Whitespace runs collapsed to one space, none at either end."""
    return _SPACES.sub(" ", text).strip()
