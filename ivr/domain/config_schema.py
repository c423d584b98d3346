"""The shape of a settings file as data, and the check that walks composed YAML against it.

Owns the small vocabulary the config files are declared in (`Scalar`, `Fields`, `Named`,
`Items`, `AnyOf`, `ByType`) and `check_tree`, which reports every unknown key, wrong type,
out-of-range number and unknown name with the line it is on, through the same `Problems` /
`FlowError(file, line, reason)` machinery as the call flows (`ivr.domain.flow.yamlsource`).
The formats themselves are declared in `ivr.domain.config_formats`.

Why not JSON Schema: its validators report a JSON pointer, not the line, and know nothing of
PyYAML 1.1's traps (`17:30` is 1050, `NO` is False); the composed nodes keep both.

References: a `Scalar(ref="queue")` value, or the keys of a `Named(key_ref="queue")`, name a
thing of kind "queue"; a `Named(declares="queue")` declares them. `check_refs` reports each
name that neither this file declares nor the caller passes in as known (another file's
names). Pure: nodes in, problems out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ivr.domain.errors import ConfigFileErrors
from ivr.domain.flow.yamlsource import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    NULL_TAG,
    STR_TAG,
    Problems,
    compose,
    items,
    line_of,
    scalar_value,
)

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")
DATE = re.compile(r"^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
DAY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
KINDS = ("text", "int", "number", "bool", "time", "date", "day", "timezone", "switch")
# A `switch` is on or off, written bare (YAML 1.1 reads it as a boolean) or quoted: an
# author who writes `mode: off` means the word, and refusing it would only teach quoting.
# Any boolean is taken (true is on): a tool that loads and dumps the file writes `false`.
SWITCH_WORDS = ("on", "off")
_EXAMPLE = {"text": "text", "int": "a whole number", "number": "a number",
            "bool": "true or false", "time": "a quoted time like '13:00'",
            "date": "a date like '2026-12-24' (or '12-24': every year)",
            "day": "a date like '2026-12-24'",
            "timezone": "an IANA time zone such as America/Los_Angeles",
            "switch": "on or off"}


@dataclass(frozen=True)
class Scalar:
    """One value of `kind` (see KINDS); `ref` names the kind of thing the value must name."""

    kind: str
    doc: str = ""
    min: float | None = None
    max: float | None = None
    above: float | None = None  # strictly greater than (a timeout of 0 makes no sense)
    choices: tuple[str, ...] = ()
    ref: str | None = None
    declares: str | None = None  # the value is a name of this kind (a queue's skill)


@dataclass(frozen=True)
class Fields:
    """A mapping with a fixed set of keys."""

    fields: Mapping[str, Shape]
    required: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class Named:
    """A mapping from names the author chooses to values of one shape."""

    value: Shape
    declares: str | None = None
    key_ref: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class Items:
    """A list; `single=True` also takes a lone value as a one-item list."""

    item: Shape
    min_items: int = 0
    single: bool = False


@dataclass(frozen=True)
class AnyOf:
    """The first option whose container kind (scalar, mapping, list) matches the node."""

    options: tuple[Shape, ...]
    doc: str = ""


@dataclass(frozen=True)
class ByType:
    """A mapping whose `key` (e.g. `type: csv`) picks the shape of the rest."""

    shapes: Mapping[str, Fields]
    key: str = "type"


Shape = Union[Scalar, Fields, Named, Items, AnyOf, ByType]  # noqa: UP007 - a runtime alias


@dataclass
class Found:
    """Names declared (kind -> name -> line) and named (kind, name, line, what) in a file."""

    declared: dict[str, dict[str, int]] = field(default_factory=dict)
    refs: list[tuple[str, str, int, str]] = field(default_factory=list)


def check_tree(node: yaml.Node, shape: Shape, problems: Problems, what: str = "",
               found: Found | None = None) -> Found:
    """Report every way `node` does not fit `shape`; returns the names found on the way."""
    found = found if found is not None else Found()
    _Walker(problems, found).walk(node, shape, what)
    return found


def check_refs(found: Found, problems: Problems,
               known: Mapping[str, Collection[str] | None] | None = None) -> None:
    """Each name referred to must be declared in the file or be in `known[kind]`; a kind
    whose `known` entry is None is not checked (the caller was given no such list)."""
    known = known or {}
    for kind, name, line, what in found.refs:
        outside = known.get(kind, ())
        if outside is None:
            continue
        names = set(found.declared.get(kind, {})) | set(outside)
        if name not in names:
            problems.add(line, f"{what}: unknown {kind} {name!r}; known: "
                               f"{', '.join(sorted(names)) or 'none'}")


def check_text(text: str, file: str, shape: Shape,
               known: Mapping[str, Collection[str] | None] | None = None) -> tuple[Any, Found]:
    """Compose `text`, check it against `shape` and its names against `known`; returns the
    plain data (what `yaml.safe_load` gives) and the names found. Raises ConfigFileErrors
    listing every problem with its line. An empty file is an empty mapping."""
    problems = Problems(file)
    root = compose(text, problems)
    found = Found()
    if root is not None:
        check_tree(root, shape, problems, found=found)
        check_refs(found, problems, known)
    if problems.errors:
        raise ConfigFileErrors(sorted(problems.errors, key=lambda e: e.line))
    return (_plain(root) if root is not None else None) or {}, found


def _plain(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _container(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "list" if isinstance(node, yaml.SequenceNode) else "scalar"


def _wants(shape: Shape) -> str:
    if isinstance(shape, Scalar):
        return "scalar"
    return "list" if isinstance(shape, Items) else "mapping"


def _join(what: str, key: str) -> str:
    return key if what == "file" else f"{what}.{key}"


class _Walker:
    def __init__(self, problems: Problems, found: Found) -> None:
        self.p = problems
        self.found = found

    def walk(self, node: yaml.Node, shape: Shape, what: str) -> None:
        """`what` is the dotted path to `node` ('' at the top: messages then say 'file')."""
        what = what or "file"
        if isinstance(shape, AnyOf):
            shape = next((s for s in shape.options if _wants(s) == _container(node)),
                         shape.options[0])
        if isinstance(shape, Items) and shape.single and not isinstance(node, yaml.SequenceNode):
            self.walk(node, shape.item, what)
        elif _wants(shape) != _container(node):
            self.p.at(node, f"{what} must be {_described(shape)}, not a {_container(node)}")
        elif isinstance(shape, Scalar) and isinstance(node, yaml.ScalarNode):
            self.scalar(node, shape, what)
        elif isinstance(shape, Items):
            self.items(node, shape, what)
        elif isinstance(shape, Named):
            self.named(node, shape, what)
        elif isinstance(shape, ByType):
            self.by_type(node, shape, what)
        elif isinstance(shape, Fields):
            self.fields(node, shape, what)

    def fields(self, node: yaml.Node, shape: Fields, what: str) -> None:
        seen = set()
        for key, key_node, value in items(node, self.p, what):
            seen.add(key)
            if key not in shape.fields:
                self.p.at(key_node, f"{what}: unknown key {key!r}; known: "
                                    f"{', '.join(shape.fields)}")
            else:
                self.walk(value, shape.fields[key], _join(what, key))
        for key in shape.required:
            if key not in seen:
                self.p.at(node, f"{what}: missing required key {key!r}")

    def named(self, node: yaml.Node, shape: Named, what: str) -> None:
        for key, key_node, value in items(node, self.p, what):
            if shape.declares:
                self.found.declared.setdefault(shape.declares, {})[key] = line_of(key_node)
            if shape.key_ref:
                self.found.refs.append((shape.key_ref, key, line_of(key_node), what))
            self.walk(value, shape.value, _join(what, key))

    def by_type(self, node: yaml.Node, shape: ByType, what: str) -> None:
        pairs = {k: v for k, _, v in items(node, Problems(self.p.file), what)}
        chosen = pairs.get(shape.key)
        name = str(chosen.value) if isinstance(chosen, yaml.ScalarNode) else ""
        if name not in shape.shapes:
            self.p.at(chosen if chosen is not None else node,
                      f"{what}: {shape.key} {name!r} must be one of {', '.join(shape.shapes)}")
            return
        picked = shape.shapes[name]
        self.fields(node, Fields({shape.key: Scalar("text"), **picked.fields},
                                 picked.required), what)

    def items(self, node: yaml.Node, shape: Items, what: str) -> None:
        if len(node.value) < shape.min_items:
            self.p.at(node, f"{what} needs at least {shape.min_items} item(s)")
        for i, item in enumerate(node.value):
            self.walk(item, shape.item, f"{what}[{i}]")

    def scalar(self, node: yaml.ScalarNode, shape: Scalar, what: str) -> None:
        problem = _scalar_problem(node, shape)
        if problem is not None:
            self.p.at(node, f"{what}: {problem}")
            return
        if shape.ref:
            self.found.refs.append((shape.ref, str(node.value), line_of(node), what))
        if shape.declares:
            self.found.declared.setdefault(shape.declares, {})[str(node.value)] = line_of(node)


def _described(shape: Shape) -> str:
    if isinstance(shape, Scalar):
        return _EXAMPLE[shape.kind]
    if isinstance(shape, Items):
        return "a list"
    if isinstance(shape, Fields):
        return f"a mapping with {', '.join(shape.fields)}"
    return "a mapping (name: value lines)"


def _scalar_problem(node: yaml.ScalarNode, shape: Scalar) -> str | None:
    """Why a scalar node is not a `shape.kind`, judged from its YAML tag, or None."""
    tag, text = node.tag, str(node.value)
    ok = {
        "text": tag == STR_TAG,
        "int": tag == INT_TAG and ":" not in text,
        "number": tag in (INT_TAG, FLOAT_TAG) and ":" not in text,
        "bool": tag == BOOL_TAG,
        "time": tag == STR_TAG and bool(TIME.match(text)),
        "date": tag in (TIMESTAMP_TAG, STR_TAG) and bool(DATE.match(text)),
        "day": tag in (TIMESTAMP_TAG, STR_TAG) and bool(DAY.match(text)),
        "timezone": tag == STR_TAG,
        "switch": tag == BOOL_TAG or tag == STR_TAG and text in SWITCH_WORDS,
    }[shape.kind]
    if ok and shape.kind == "timezone":
        ok = _is_zone(text)
    if not ok and tag == STR_TAG and shape.kind in ("time", "date", "day", "timezone", "switch"):
        return f"{text!r} is not {_EXAMPLE[shape.kind]}"
    if not ok:
        read = {INT_TAG: "a number", FLOAT_TAG: "a number", BOOL_TAG: "a boolean (YAML 1.1)",
                NULL_TAG: "empty", STR_TAG: "text", TIMESTAMP_TAG: "a date"}.get(tag, tag)
        hint = "; quote it" if shape.kind in ("text", "time") and tag != NULL_TAG else ""
        return f"{text or '~'} is read as {read}; it must be {_EXAMPLE[shape.kind]}{hint}"
    if shape.choices and text not in shape.choices:
        return f"{text!r} must be one of {', '.join(shape.choices)}"
    if shape.kind in ("int", "number"):
        return _range_problem(float(scalar_value(node)), text, shape)
    return None


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "US" is a folder of tzdata
        return False
    return True


def _range_problem(value: float, text: str, shape: Scalar) -> str | None:
    if shape.min is not None and value < shape.min:
        return f"{text} must be at least {shape.min:g}"
    if shape.max is not None and value > shape.max:
        return f"{text} must be at most {shape.max:g}"
    if shape.above is not None and value <= shape.above:
        return f"{text} must be above {shape.above:g}"
    return None


_JSON_TYPES = {"text": "string", "int": "integer", "number": "number", "bool": "boolean",
               "time": "string", "date": "string", "day": "string", "timezone": "string",
               "switch": "string"}
_PATTERNS = {"time": TIME.pattern, "date": DATE.pattern, "day": DAY.pattern}


def json_schema(shape: Shape) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of `shape`, for editors (`ivr schema --file`). It
    cannot say which names exist (references) or what YAML 1.1 reads: `ivr check` does."""
    if isinstance(shape, Scalar):
        return _scalar_schema(shape)
    if isinstance(shape, Items):
        listed: dict[str, Any] = {"type": "array", "items": json_schema(shape.item)}
        if shape.min_items:
            listed["minItems"] = shape.min_items
        return {"anyOf": [json_schema(shape.item), listed]} if shape.single else listed
    if isinstance(shape, AnyOf):
        return {"anyOf": [json_schema(s) for s in shape.options]}
    if isinstance(shape, Named):
        return {"type": "object", "additionalProperties": json_schema(shape.value)}
    if isinstance(shape, ByType):
        return {"oneOf": [json_schema(Fields({shape.key: Scalar("text", choices=(name,)),
                                              **fields.fields},
                                             (shape.key, *fields.required)))
                          for name, fields in shape.shapes.items()]}
    return {"type": "object", "additionalProperties": False,
            "properties": {k: json_schema(v) for k, v in shape.fields.items()},
            **({"required": list(shape.required)} if shape.required else {})}


def _scalar_schema(shape: Scalar) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _JSON_TYPES[shape.kind]}
    if shape.kind == "switch":  # bare on/off is a boolean to a YAML 1.1 reader, a word to 1.2
        out = {"enum": [*SWITCH_WORDS, True, False]}
    if shape.kind in _PATTERNS:
        out["pattern"] = _PATTERNS[shape.kind]
    for key, value in (("minimum", shape.min), ("maximum", shape.max),
                       ("exclusiveMinimum", shape.above)):
        if value is not None:
            out[key] = value
    if shape.choices:
        out["enum"] = list(shape.choices)
    if shape.doc:
        out["description"] = shape.doc
    return out
