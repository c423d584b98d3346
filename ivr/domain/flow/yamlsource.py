"""Composed YAML with line numbers, and the collector of problems found while reading it.

Owns turning flow text into `yaml.Node`s (SafeLoader, via `yaml.compose`, so every key and
value keeps its mark) and the checks that need the *source* rather than the value: PyYAML 1.1
turns `1:` into an int, `yes:`/`on:` into booleans and `17:30` into 1050, silently. Those traps
are caught here from the node tags, each with the 1-based line and the fix. Pure: text in,
nodes and `FlowError`s out; no files are read here (the adapter `ivr/flows/registry.py` reads them).

Hostile or runaway text is refused before anything walks it (issue 12, item 7c): anchors and
aliases (a 600-byte "billion laughs" draft expands to 10^9 nodes for whatever walks the tree,
and no config here needs them), nesting deeper than `MAX_DEPTH`, and documents over
`MAX_DOCUMENT_BYTES`. `StrictLoader` does the first two while composing; `load_data` is
`yaml.safe_load` with all three, for the config files read as plain data (queues.yaml,
lookups.yaml, the prompt catalogue, the editor's graph of a draft).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ivr.domain.errors import FlowError

INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
MAX_DEPTH = 32  # the deepest flow in callflows/ nests 8 levels
MAX_DOCUMENT_BYTES = 512 * 1024  # the largest config here is a few kB; flows: MAX_FLOW_BYTES


class YamlRefused(yaml.MarkedYAMLError):
    """Text refused before it is built (alias, anchor, depth, size); a YAMLError with the line,
    so every reader's `except yaml.YAMLError` reports it where it reported syntax errors."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and nesting deeper than MAX_DEPTH, as it
    composes (before any node is built or walked)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(None, None, f"aliases (*{event.anchor}) are not allowed: write "
                              "the value out", mark)
        if getattr(event, "anchor", None):
            raise YamlRefused(None, None, f"anchors (&{event.anchor}) are not allowed: write "
                              "the value out where it is used", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefused(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                  mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def size_problem(text: str, max_bytes: int) -> tuple[int, str] | None:
    """(line where the limit is passed, reason) when `text` is over `max_bytes` in UTF-8."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return None
    return (data[:max_bytes].count(b"\n") + 1,
            f"the document is {len(data)} bytes; the limit is {max_bytes}: split it")


def load_data(text: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """`yaml.safe_load` without anchors, aliases, deep nesting or oversize text (YamlRefused,
    a yaml.YAMLError carrying the line), built from the text's `composed` tree."""
    too_big = size_problem(text, max_bytes)
    if too_big is not None:
        line, reason = too_big
        raise YamlRefused(None, None, reason, yaml.Mark("<text>", 0, line - 1, 0, "", 0))
    node = composed(text)  # the remembered tree; the data built from it is new each time
    if node is None:
        return None
    loader = StrictLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def line_of(node: yaml.Node) -> int:
    """1-based line where `node` starts (PyYAML marks are 0-based)."""
    return int(node.start_mark.line) + 1


@dataclass
class Problems:
    """Every problem found in one file, reported together (`FlowErrors`), not one per run."""

    file: str
    errors: list[FlowError] = field(default_factory=list)

    def add(self, line: int, reason: str) -> None:
        self.errors.append(FlowError(self.file, line, reason))

    def at(self, node: yaml.Node, reason: str) -> None:
        self.add(line_of(node), reason)


REMEMBERED_TEXTS = 24  # config and flow texts whose trees `composed` keeps (about 13 MB at most)
REMEMBERED_MAX_BYTES = 32 * 1024  # larger texts are composed every time (a tree is ~17x its text)


def composed(text: str) -> yaml.Node | None:
    """`yaml.compose(text, Loader=StrictLoader)`, remembered by the text (a YAMLError is
    raised each time, never remembered).

    Why: one app start composes the same few files a dozen times (queues.yaml for the queues,
    the wallboard and the calendars' checks, each flow for its checks and its lines), and
    PyYAML's pure-Python composer was two thirds of `create_app` (0.49 s). Every reader only
    walks the trees (tests/flows/test_composed_yaml.py checks a load leaves its tree as it
    was), so one tree serves them all. `REMEMBERED_TEXTS` texts of at most
    `REMEMBERED_MAX_BYTES` each bound the memory."""
    if len(text) > REMEMBERED_MAX_BYTES:
        return yaml.compose(text, Loader=StrictLoader)
    return _composed(text)


@functools.lru_cache(maxsize=REMEMBERED_TEXTS)
def _composed(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=StrictLoader)


def compose(text: str, problems: Problems,
            max_bytes: int = MAX_DOCUMENT_BYTES) -> yaml.Node | None:
    """Compose one YAML document; a syntax error or a refusal (StrictLoader, size) is recorded
    with its line and yields None."""
    too_big = size_problem(text, max_bytes)
    if too_big is not None:
        problems.add(*too_big)
        return None
    try:
        return composed(text)
    except YamlRefused as exc:
        mark = exc.problem_mark
        problems.add(int(mark.line) + 1 if mark is not None else 1, str(exc.problem))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        problems.add(line, f"YAML syntax error: {exc.problem or exc}; check indentation "
                           "and quote values that contain ': ', '#', '*' or '&'")
    except yaml.YAMLError as exc:
        problems.add(1, f"YAML error: {exc}")
    return None


def scalar_value(node: yaml.ScalarNode) -> Any:
    """The Python value PyYAML's SafeLoader would build for this scalar."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def key_trap(node: yaml.ScalarNode) -> str | None:
    """Why a mapping key is not the string the author meant, or None when it is fine."""
    if node.tag in (INT_TAG, FLOAT_TAG):
        return (f"key {node.value} is read as a number, not text; "
                f"quote it: '{node.value}':")
    if node.tag == BOOL_TAG:
        return (f"key {node.value} is read as a boolean (YAML 1.1); "
                f"quote it: '{node.value}':")
    if node.tag == NULL_TAG:
        return f"key {node.value or '~'} is read as null; quote it or give it a name"
    return None


def items(node: yaml.Node, problems: Problems, what: str) -> Iterator[
        tuple[str, yaml.Node, yaml.Node]]:
    """(key, key node, value node) for a mapping; non-string or repeated keys are problems.

    Repeated keys matter because PyYAML keeps the last one silently: two `'1':` options in a
    menu would leave one of them unreachable with no warning.
    """
    if not isinstance(node, yaml.MappingNode):
        problems.at(node, f"{what} must be a mapping (key: value lines)")
        return
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.at(key_node, f"{what}: keys must be plain text")
            continue
        trap = key_trap(key_node)
        if trap is not None:
            problems.at(key_node, f"{what}: {trap}")
            continue
        key = str(key_node.value)
        if key in seen:
            problems.at(key_node, f"{what}: key {key!r} repeats line {seen[key]}; "
                                  "each key may appear once")
            continue
        seen[key] = line_of(key_node)
        yield key, key_node, value_node


def as_list(node: yaml.Node) -> list[yaml.Node]:
    """A sequence's items, or the node itself as a one-item list (`say: x` == `say: [x]`)."""
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return [node]
