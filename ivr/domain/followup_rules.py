"""followup.yaml text -> validated `FollowupRules`, or `FlowErrors` with FILE:LINE per problem.

Owns the rules format (docs/followup.md): which rule kinds exist, their parameters, the
placeholders a reason or SMS template may use, durations (`90s`, `30m`, `4h`, `2d`) and
priorities (1-4 or urgent/high/normal/low). Reading goes through the flows' line-keeping YAML
(`ivr.domain.flow.yamlsource`), so a typo is reported where it is, and every problem in the
file is reported at once. Pure: text in, dataclasses out; the adapter `ivr/outcomes/followup.py`
reads the file and cross-checks survey question ids against the flows.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from ivr.domain.errors import FlowErrors
from ivr.domain.flow.yamlsource import INT_TAG, STR_TAG, Problems, compose, items, scalar_value

# kind -> its own parameters (name -> type). `reason`, `sms` and `team` may use the common
# placeholders plus the kind's own ones.
KIND_PARAMS: Mapping[str, Mapping[str, str]] = {
    "abandoned": {"min_wait": "duration"},
    "callback_failed": {"min_attempts": "count"},
    "survey": {"question": "text", "at_most": "count", "answers": "texts"},
    "voicemail": {},
    "self_service_failed": {"times": "count"},
    "repeat_caller": {"within": "duration", "calls": "count"},
    "disposition": {"codes": "texts"},
}
REQUIRED_PARAMS: Mapping[str, tuple[str, ...]] = {
    "survey": ("question",), "self_service_failed": ("times",), "repeat_caller": ("within",),
    "disposition": ("codes",)}
COMMON_PLACEHOLDERS = ("caller", "queue", "flow", "call_sid", "wait")
KIND_PLACEHOLDERS: Mapping[str, tuple[str, ...]] = {
    "abandoned": (), "callback_failed": ("attempts", "number"),
    "survey": ("question", "answer", "score"), "voicemail": ("duration",),
    "self_service_failed": ("failures", "tasks"), "repeat_caller": ("calls", "within"),
    "disposition": ("agent", "code", "notes"),
}
RULE_FIELDS = ("kind", "reason", "priority", "team", "due", "sms")
PRIORITIES = {"urgent": 1, "high": 2, "normal": 3, "low": 4}
DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SMS = 320


@dataclass(frozen=True)
class Rule:
    """One rule. Times are seconds. `team` may be a template (`"{queue}"`: the call's queue)."""

    id: str
    kind: str
    line: int
    reason: str
    priority: int = 3
    team: str | None = "{queue}"
    due_s: float = 4 * 3600.0
    sms: str | None = None
    min_wait_s: float = 0.0
    min_attempts: int = 1
    question: str | None = None
    at_most: int | None = None
    answers: tuple[str, ...] = ()
    times: int = 1
    within_s: float = 0.0
    calls: int = 2
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowupRules:
    file: str
    rules: tuple[Rule, ...] = ()
    default_team: str | None = None

    def survey_questions(self) -> dict[str, int]:
        """Question id -> line of the rule that names it (for the flows cross-check)."""
        return {r.question: r.line for r in self.rules if r.question}


def load_rules(text: str, file: str) -> FollowupRules:
    """Parse and check followup.yaml's text; raises FlowErrors with every problem found."""
    problems = Problems(file)
    root = compose(text, problems)
    rules = None
    if root is None and not problems.errors:
        problems.add(1, "the file is empty; it needs a rules: section (docs/followup.md)")
    elif root is not None and not isinstance(root, yaml.MappingNode):
        problems.at(root, "followup.yaml is a mapping with rules: (and default_team:)")
    elif root is not None:
        rules = _Builder(problems).build(root, file)
    if problems.errors or rules is None:
        raise FlowErrors(sorted(problems.errors, key=lambda e: e.line))
    return rules


class _Builder:
    def __init__(self, problems: Problems) -> None:
        self.p = problems

    def build(self, root: yaml.MappingNode, file: str) -> FollowupRules | None:
        top = {k: v for k, _, v in items(root, self.p, "followup.yaml")}
        for name in top.keys() - {"rules", "default_team"}:
            self.p.at(top[name], f"unknown section {name!r}; known: rules, default_team")
        if "rules" not in top:
            self.p.at(root, "missing required section 'rules'")
            return None
        default_team = self.text(top["default_team"], "default_team") if (
            "default_team" in top) else None
        rules = []
        for rule_id, key_node, node in items(top["rules"], self.p, "rules"):
            if not RULE_ID.match(rule_id):
                self.p.at(key_node, f"rule id {rule_id!r}: use lower-case letters, digits and _"
                                    " (at most 64), starting with a letter")
            rule = self.rule(rule_id, key_node, node)
            if rule is not None:
                rules.append(rule)
        return FollowupRules(file, tuple(rules), default_team)

    def rule(self, rule_id: str, key_node: yaml.Node, node: yaml.Node) -> Rule | None:
        what = f"rule {rule_id}"
        before = len(self.p.errors)
        fields = {k: v for k, _, v in items(node, self.p, what)}
        kind = self.text(fields["kind"], f"{what}: kind") if "kind" in fields else None
        if kind is None:
            if "kind" not in fields and isinstance(node, yaml.MappingNode):
                self.p.at(key_node, f"{what}: missing kind; one of {', '.join(KIND_PARAMS)}")
            return None
        if kind not in KIND_PARAMS:
            self.p.at(fields["kind"], f"{what}: unknown kind {kind!r}; known: "
                                      f"{', '.join(KIND_PARAMS)}")
            return None
        known = (*RULE_FIELDS, *KIND_PARAMS[kind])
        for name in fields.keys() - set(known):
            self.p.at(fields[name], f"{what}: unknown field {name!r} for kind {kind}; known: "
                                    f"{', '.join(known)}")
        for name in ("reason", "due", *REQUIRED_PARAMS.get(kind, ())):
            if name not in fields:
                self.p.at(key_node, f"{what}: missing {name}:")
        values = self.values(what, kind, fields)
        if len(self.p.errors) > before:
            return None
        return Rule(id=rule_id, kind=kind, line=key_node.start_mark.line + 1, **values)

    def values(self, what: str, kind: str, fields: Mapping[str, yaml.Node]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        placeholders = (*COMMON_PLACEHOLDERS, *KIND_PLACEHOLDERS[kind])
        for name in ("reason", "sms", "team"):
            if name in fields:
                out[name] = self.template(fields[name], f"{what}: {name}", placeholders)
        if isinstance(out.get("sms"), str) and len(out["sms"]) > MAX_SMS:
            self.p.at(fields["sms"], f"{what}: sms is {len(out['sms'])} characters; keep it "
                                     f"under {MAX_SMS} (two SMS segments)")
        if "priority" in fields:
            out["priority"] = self.priority(fields["priority"], what)
        if "due" in fields:
            out["due_s"] = self.duration(fields["due"], f"{what}: due")
        for name, kind_of in KIND_PARAMS[kind].items():
            if name in fields:
                key = f"{name}_s" if kind_of == "duration" else name
                out[key] = self.param(fields[name], f"{what}: {name}", kind_of)
        if kind == "survey":
            self.survey_check(what, fields)
        return out

    def survey_check(self, what: str, fields: Mapping[str, yaml.Node]) -> None:
        if ("at_most" in fields) == ("answers" in fields) and "question" in fields:
            self.p.at(fields["question"], f"{what}: give exactly one of at_most: (a score, "
                                          "e.g. 2) or answers: (e.g. [\"no\"])")

    def param(self, node: yaml.Node, what: str, kind_of: str) -> Any:
        if kind_of == "duration":
            return self.duration(node, what)
        if kind_of == "count":
            return self.count(node, what)
        if kind_of == "texts":
            nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
            return tuple(t for t in (self.text(n, what) for n in nodes) if t is not None)
        return self.text(node, what)

    def text(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG and node.value.strip():
            return str(node.value).strip()
        if isinstance(node, yaml.ScalarNode) and node.value.strip():
            self.p.at(node, f"{what}: {node.value} is read as {type(scalar_value(node)).__name__}"
                            f" (YAML 1.1), not text; quote it: \"{node.value}\"")
        else:
            self.p.at(node, f"{what}: must be text")
        return None

    def template(self, node: yaml.Node, what: str, placeholders: tuple[str, ...]) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value)
                     if name is not None]
        except ValueError as exc:
            self.p.at(node, f"{what}: {exc}; write {{name}} for a value, {{{{ for a brace")
            return None
        for name in names:
            if name not in placeholders:
                self.p.at(node, f"{what}: unknown placeholder {{{name}}}; known: "
                                f"{', '.join('{' + p + '}' for p in placeholders)}")
                return None
        return value

    def duration(self, node: yaml.Node, what: str) -> float | None:
        match = DURATION.match(node.value) if isinstance(node, yaml.ScalarNode) else None
        if match is None or (isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG):
            shown = node.value if isinstance(node, yaml.ScalarNode) else "this"
            self.p.at(node, f"{what}: {shown!s} is not a duration; write a number and a unit, "
                            "e.g. 90s, 30m, 4h or 2d")
            return None
        return float(int(match.group(1)) * UNITS[match.group(2)])

    def count(self, node: yaml.Node, what: str) -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG:
            value = scalar_value(node)
            if isinstance(value, int) and value >= 1:
                return value
        self.p.at(node, f"{what}: must be a whole number of at least 1")
        return None

    def priority(self, node: yaml.Node, what: str) -> int | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == INT_TAG and node.value in ("1", "2", "3", "4"):
                return int(node.value)
            if node.value in PRIORITIES:
                return PRIORITIES[node.value]
        self.p.at(node, f"{what}: priority must be 1-4 or one of {', '.join(PRIORITIES)}")
        return None
