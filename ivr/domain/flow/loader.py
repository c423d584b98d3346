"""Flow text -> validated `Flow`, or `FlowErrors` listing every problem with file and line.

`load_flow(text, file, catalog, calendars)` is the one entry point: it composes the YAML (so
marks keep line numbers), checks each field against `schema.py` (an `hours:` schedule against
`config_formats.SCHEDULE`, the shape queues.yaml's schedules have), resolves prompts in every
language of the flow, adds the built-in `_fallback`, `_voicemail` and `_goodbye` nodes, and
runs the graph checks in `validator.py`. Reading files is the adapter's job
(`ivr/flows/registry.py`): this module takes text, so it stays pure and the tests feed it strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import yaml

from ivr.domain.config_formats import SCHEDULE
from ivr.domain.config_schema import check_tree
from ivr.domain.errors import FlowErrors
from ivr.domain.flow import model
from ivr.domain.flow.conditions import ConditionError, parse_condition
from ivr.domain.flow.fields import CONVERTERS, NODE_ID, PromptTexts, Reader
from ivr.domain.flow.schema import COMMON, FLOW_FIELDS, NODE_FIELDS, TYPE_ALIASES
from ivr.domain.flow.validator import validate
from ivr.domain.flow.yamlsource import Problems, as_list, compose, items, line_of, scalar_value
from ivr.domain.hours import Calendar, HoursError, Schedule, parse_schedule

# Prompts the built-in behaviour speaks; every flow needs them in every language it declares.
SYSTEM_PROMPTS = ("invalid_input", "no_input", "goodbye", "voicemail_intro",
                  "technical_difficulty")
_RENAMED = {"else": "otherwise", "goto": "target"}
MAX_FLOW_BYTES = 200_000  # the editor's limit too (ivr/flows/publishing.py); ivr check applies it


def content_version(text: str) -> str:
    """The flow version: a short content hash, so two servers agree without coordination."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def load_flow(text: str, file: str, catalog: PromptTexts,
              calendars: Mapping[str, Calendar] | None = None) -> model.Flow:
    """Parse and validate one flow file's text; raises FlowErrors with every problem found.

    An `hours:` schedule's `calendar:` must name one of `calendars` (calendars.yaml, read by
    the adapter). Without `calendars` (a reader that loads no calendars file, such as a
    test) the name is kept on an empty calendar and not checked."""
    problems = Problems(file)
    root = compose(text, problems, MAX_FLOW_BYTES)
    if root is not None and not isinstance(root, yaml.MappingNode):
        problems.at(root, "a flow file is a mapping with flow:, languages:, start:, nodes: ...")
        root = None
    builder = _FlowBuilder(Reader(problems, catalog), file, calendars)
    flow = builder.build(root, text) if root else None
    if flow is not None:
        validate(flow, problems)
    if problems.errors or flow is None:
        if not problems.errors:
            problems.add(1, "the file is empty; see callflows/README.md for the format")
        raise FlowErrors(sorted(problems.errors, key=lambda e: e.line))
    return flow


class _FlowBuilder:
    def __init__(self, reader: Reader, file: str,
                 calendars: Mapping[str, Calendar] | None) -> None:
        self.r = reader
        self.p = reader.problems
        self.file = file
        self.calendars = calendars

    def build(self, root: yaml.MappingNode, text: str) -> model.Flow | None:
        fields = dict((k, v) for k, _, v in items(root, self.p, "flow file"))
        for name in fields.keys() - FLOW_FIELDS.keys():
            self.p.at(fields[name], f"unknown section {name!r}; known: "
                                    f"{', '.join(FLOW_FIELDS)}")
        for name in FLOW_FIELDS.keys() - fields.keys():
            if FLOW_FIELDS[name].required:
                self.p.at(root, f"missing required section {name!r}")
        if "languages" not in fields or "nodes" not in fields:
            return None
        self.r.languages = self.r.texts(fields["languages"], "languages")
        if not self.r.languages:
            return None
        return self._flow(fields, root, text)

    def _flow(self, f: Mapping[str, yaml.Node], root: yaml.Node, text: str) -> model.Flow:
        get = self._getter(f)
        queues = self._queues(f["queues"]) if "queues" in f else {}
        human = get("human", "target") or model.FALLBACK
        nodes = {k: _with_defaults(n, human) for k, n in self._nodes(f["nodes"]).items()}
        built_in, system = self._built_ins(f.get("fallback"), root)
        return model.Flow(
            id=get("flow", "text") or "", file=self.file, version=content_version(text),
            numbers=self._numbers(f["numbers"]) if "numbers" in f else (),
            default=bool(get("default", "bool")), languages=self.r.languages,
            start=get("start", "target") or "", human=human,
            timezone=get("timezone", "text") or "UTC", nodes={**nodes, **built_in},
            queues=queues, prompts=system,
            schedules=self._schedules(f["hours"]) if "hours" in f else {},
            line=line_of(root),
        )

    def _getter(self, f: Mapping[str, yaml.Node]) -> Any:
        def get(name: str, kind: str) -> Any:
            return CONVERTERS[kind](self.r, f[name], name) if name in f else None
        return get

    def _numbers(self, node: yaml.Node) -> tuple[str, ...]:
        found = (self.r.phone(n, "numbers") for n in as_list(node))
        return tuple(n for n in found if n is not None)

    def _queues(self, node: yaml.Node) -> dict[str, model.QueueRef]:
        queues = {}
        for name, key, value in items(node, self.p, "queues"):
            skill = None
            for option, _, v in items(value, self.p, f"queues.{name}"):
                if option != "skill":
                    self.p.at(v, f"queues.{name}: unknown key {option!r}; use skill")
                else:
                    skill = self.r.text(v, f"queues.{name}.skill")
            queues[name] = model.QueueRef(name, skill or name, line_of(key))
        return queues

    def _schedules(self, node: yaml.Node) -> dict[str, Schedule]:
        schedules = {}
        for name, _, value in items(node, self.p, "hours"):
            if not _times_quoted(value, self.p, f"hours.{name}"):
                continue
            before = len(self.p.errors)
            check_tree(value, SCHEDULE, self.p, f"hours.{name}")  # the same shape as queues'
            if len(self.p.errors) > before:
                continue
            try:
                schedules[name] = parse_schedule(scalar_value(value) if isinstance(
                    value, yaml.ScalarNode) else _plain(value), self.calendars)
            except (HoursError, AttributeError, TypeError) as exc:
                at = _calendar_node(value) if str(exc).startswith("unknown calendar") else value
                self.p.at(at, f"hours.{name}: {exc}")
        return schedules

    def _built_ins(self, node: yaml.Node | None, root: yaml.Node) -> tuple[
            dict[str, model.Node], dict[str, tuple[model.Prompt, ...]]]:
        """The nodes every flow has: `_fallback` (its `fallback:` section), `_voicemail`
        and `_goodbye`; and the system prompts the interpreter speaks on its own."""
        line = line_of(node) if node is not None else line_of(root)
        system = {name: self.r.prompts(_scalar_node(name, node or root), f"built-in {name}")
                  for name in SYSTEM_PROMPTS}
        mailbox, queue = "general", None
        if node is not None:
            for key, _, value in items(node, self.p, "fallback"):
                if key == "queue":
                    queue = self.r.text(value, "fallback.queue")
                elif key == "voicemail":
                    mailbox = self.r.text(value, "fallback.voicemail") or mailbox
                else:
                    self.p.at(value, f"fallback: unknown key {key!r}; use queue or voicemail")
        goodbye = model.HangupNode(id=model.GOODBYE, line=line, say=system["goodbye"])
        voicemail = model.VoicemailNode(id=model.VOICEMAIL, line=line, mailbox=mailbox,
                                        say=system["voicemail_intro"], next=model.GOODBYE)
        fallback: model.Node = model.VoicemailNode(
            id=model.FALLBACK, line=line, mailbox=mailbox, say=system["voicemail_intro"],
            next=model.GOODBYE)
        if queue is not None:
            fallback = model.QueueNode(id=model.FALLBACK, line=line, queue=queue,
                                       reason="fallback", lines={"queue": line},
                                       results=_queue_defaults({}))
        return {n.id: n for n in (goodbye, voicemail, fallback)}, system

    # -- nodes ---------------------------------------------------------------------------------

    def _nodes(self, node: yaml.Node) -> dict[str, model.Node]:
        nodes: dict[str, model.Node] = {}
        for node_id, key, value in items(node, self.p, "nodes"):
            if not NODE_ID.match(node_id):
                self.p.at(key, f"node id {node_id!r} must start with a letter and hold only "
                               "letters, digits, _ and -")
                continue
            built = self._node(node_id, value, line_of(key))
            if built is not None:
                nodes[node_id] = built
        return nodes

    def _node(self, node_id: str, node: yaml.Node, line: int) -> model.Node | None:
        fields = {k: (kn, v) for k, kn, v in items(node, self.p, f"node {node_id}")}
        if "type" not in fields:
            self.p.at(node, f"node {node_id}: missing type; use one of "
                            f"{', '.join(NODE_FIELDS)}")
            return None
        type_name = self.r.text(fields["type"][1], f"node {node_id}: type") or ""
        type_name = TYPE_ALIASES.get(type_name, type_name)
        if type_name not in NODE_FIELDS:
            self.p.at(fields["type"][1], f"node {node_id}: unknown node type {type_name!r}; "
                                         f"use one of {', '.join(NODE_FIELDS)}")
            return None
        kwargs = self._fields(node_id, type_name, fields, node)
        return model.NODE_TYPES[type_name](id=node_id, line=line, **kwargs)

    def _fields(self, node_id: str, type_name: str, fields: Mapping[str, Any],
                node: yaml.Node) -> dict[str, Any]:
        specs = {**COMMON, **NODE_FIELDS[type_name]}
        kwargs: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for name in specs.keys() - fields.keys():
            if specs[name].required:
                self.p.at(node, f"node {node_id} ({type_name}): missing required field {name!r}")
        for name, (key, value) in fields.items():
            spec = specs.get(name)
            if spec is None:
                self.p.at(key, f"node {node_id}: unknown field {name!r} for a {type_name} node; "
                               f"known: {', '.join(sorted(specs))}")
                continue
            if name == "type":
                continue
            what = f"node {node_id}: {name}"
            converted = (CONVERTERS[spec.kind](self.r, value, what) if spec.kind in CONVERTERS
                         else getattr(self, f"_{spec.kind}")(value, what))
            lines[name] = line_of(value)
            if converted is not None:
                kwargs[_RENAMED.get(name, name)] = converted
        kwargs["lines"] = lines
        if type_name == "queue":
            kwargs = _collect_results(kwargs)
        return kwargs

    def _options(self, node: yaml.Node, what: str) -> tuple[model.MenuOption, ...]:
        options = []
        for key, key_node, value in items(node, self.p, what):
            if key not in "0123456789*#" or len(key) != 1:
                self.p.at(key_node, f"{what}: key {key!r} must be one phone key 0-9, * or #")
                continue
            options.append(self._option(key, key_node, value, f"{what} '{key}'"))
        return tuple(options)

    def _option(self, key: str, key_node: yaml.Node, node: yaml.Node,
                what: str) -> model.MenuOption:
        if isinstance(node, yaml.ScalarNode):
            return model.MenuOption(key=key, line=line_of(key_node),
                                    goto=self.r.target(node, what))
        goto = language = None
        speech: dict[str, tuple[str, ...]] = {}
        for name, _, value in items(node, self.p, what):
            if name == "goto":
                goto = self.r.target(value, f"{what}.goto")
            elif name == "language":
                language = self.r.text(value, f"{what}.language")
            elif name == "speech":
                speech = self._speech(value, f"{what}.speech")
            else:
                self.p.at(value, f"{what}: unknown key {name!r}; use goto, speech or language")
        if goto is None:
            self.p.at(node, f"{what}: missing goto: every option leads somewhere")
        return model.MenuOption(key=key, line=line_of(key_node), goto=goto, language=language,
                                speech=speech)

    def _speech(self, node: yaml.Node, what: str) -> dict[str, tuple[str, ...]]:
        if isinstance(node, yaml.MappingNode):
            return {lang: tuple(w.lower() for w in self.r.texts(v, f"{what}.{lang}"))
                    for lang, _, v in items(node, self.p, what)}
        return {"*": tuple(w.lower() for w in self.r.texts(node, what))}

    def _cases(self, node: yaml.Node, what: str) -> tuple[model.Case, ...]:
        cases = []
        for item in as_list(node):
            found = {k: v for k, _, v in items(item, self.p, f"{what} item")}
            if set(found) != {"if", "goto"}:
                self.p.at(item, f"{what}: each case is {{if: condition, goto: node}}")
                continue
            text = self.r.text(found["if"], f"{what}.if")
            goto = self.r.target(found["goto"], f"{what}.goto")
            if text is None or goto is None:
                continue
            try:
                cases.append(model.Case(parse_condition(text), text, goto, line_of(item)))
            except ConditionError as exc:
                self.p.at(found["if"], f"{what}: condition {text!r}: {exc}")
        return tuple(cases)

    def _params(self, node: yaml.Node, what: str) -> dict[str, Any]:
        out = {}
        for name, _, value in items(node, self.p, what):
            text = self.r.text(value, f"{what}.{name}")
            template = self.r.template(text, value, f"{what}.{name}") if text else None
            if template is not None:
                out[name] = template
        return out

    def _values(self, node: yaml.Node, what: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, _, value in items(node, self.p, what):
            if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":str"):
                out[name] = self.r.template(str(value.value), value, f"{what}.{name}")
            elif isinstance(value, yaml.ScalarNode):
                out[name] = scalar_value(value)
            else:
                self.p.at(value, f"{what}.{name}: set takes text, numbers or true/false")
        return out

    def _questions(self, node: yaml.Node, what: str) -> tuple[model.Question, ...]:
        questions = []
        for item in as_list(node):
            found = {k: v for k, _, v in items(item, self.p, f"{what} item")}
            if not {"id", "say"} <= set(found) or set(found) - {"id", "say", "kind"}:
                self.p.at(item, f"{what}: each question is {{id, say, kind: scale|yes_no}}")
                continue
            kind = self.r.text(found["kind"], f"{what}.kind") if "kind" in found else "scale"
            if kind not in ("scale", "yes_no"):
                self.p.at(found["kind"], f"{what}: kind must be scale (1-5) or yes_no")
            questions.append(model.Question(
                self.r.text(found["id"], f"{what}.id") or "",
                self.r.prompts(found["say"], f"{what}.say"), kind or "scale", line_of(item)))
        if not 1 <= len(questions) <= 2:
            self.p.at(node, f"{what}: a survey asks one or two questions (callers hang up)")
        return tuple(questions)


def _with_defaults(node: model.Node, human: str) -> model.Node:
    """Fill the targets a node may leave out, so the interpreter and the graph checks see
    the same edges: retries end at a human, failures at the fallback, endings at goodbye."""
    changes: dict[str, Any] = {}
    match node:
        case model.MenuNode():
            changes = {"on_failure": node.on_failure or human, "human_target": human}
        case model.InputNode():
            changes = {"on_failure": node.on_failure or human, "human_target": human}
        case model.LookupNode():
            changes = {"on_failure": node.on_failure or model.FALLBACK}
        case model.TransferNode():
            changes = {"next": node.next or model.GOODBYE,
                       "on_failure": node.on_failure or model.FALLBACK}
        case model.SurveyNode():
            changes = {"next": node.next or model.GOODBYE, "human_target": human}
        case model.VoicemailNode():
            changes = {"next": node.next or model.GOODBYE}
        case model.HoursNode():
            changes = {"holiday": node.holiday or node.closed,
                       "emergency": node.emergency or node.closed}
    return replace(node, **changes) if changes else node


def _queue_defaults(results: Mapping[str, str]) -> dict[str, str]:
    """Where each queue result goes when the flow does not say: never strand the caller."""
    defaults = {"callback": model.GOODBYE, "voicemail": model.VOICEMAIL,
                "leave": model.VOICEMAIL, "queue-full": model.VOICEMAIL,
                "closed": model.VOICEMAIL, "error": model.VOICEMAIL}
    return {**defaults, **results}


def _collect_results(kwargs: dict[str, Any]) -> dict[str, Any]:
    results = {}
    for name in [k for k in kwargs if k.startswith("on_")]:
        results[name[3:].replace("_", "-")] = kwargs.pop(name)
    kwargs["results"] = _queue_defaults(results)
    return kwargs


def _calendar_node(node: yaml.Node) -> yaml.Node:
    """The `calendar:` value of a schedule (where an unknown calendar is reported)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "calendar":
                return value  # type: ignore[no-any-return]
    return node


def _scalar_node(prompt_id: str, near: yaml.Node) -> yaml.ScalarNode:
    """A synthetic scalar naming a system prompt, marked at `near` for error lines."""
    return yaml.ScalarNode("tag:yaml.org,2002:str", prompt_id, near.start_mark, near.end_mark)


def _plain(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    return loader.construct_document(node)


def _times_quoted(node: yaml.Node, problems: Problems, what: str) -> bool:
    """Flag `17:30` (read as 1050) anywhere under an hours section; False when any was."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:int" and ":" in node.value:
            problems.at(node, f"{what}: {node.value} is read as the number "
                              f"{scalar_value(node)} (YAML 1.1); quote it: '{node.value}'")
            return False
        return True
    children = (node.value if isinstance(node, yaml.SequenceNode)
                else [v for pair in node.value for v in pair])
    return all([_times_quoted(child, problems, what) for child in children])
