"""The call-flow model: frozen dataclasses built by `loader.py` from a flow file.

Every node keeps its 1-based `line` and the lines of its fields (`lines`), so the validator
and the interpreter's error notes can point at the file. Targets are node ids; `edges()` lists
them with the line of the reference. Node ids starting with `_` are built in (the fallback,
voicemail and goodbye nodes the loader adds to every flow) and cannot be written in a file.
Pure data: no I/O, no imports outside the standard library and this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.domain.flow.conditions import Expr, Test, compile_condition
from ivr.domain.flow.templating import Template
from ivr.domain.hours import Schedule

FALLBACK = "_fallback"
VOICEMAIL = "_voicemail"
GOODBYE = "_goodbye"
BUILT_IN = (FALLBACK, VOICEMAIL, GOODBYE)

HUMAN_WORDS: Mapping[str, tuple[str, ...]] = {
    "en": ("agent", "representative", "operator", "human", "person", "someone"),
    "es": ("agente", "representante", "operador", "persona", "alguien"),
}
YES_WORDS = ("yes", "yeah", "yep", "correct", "sí", "si", "claro")
NO_WORDS = ("no", "nope", "not")


def human_words(language: str) -> tuple[str, ...]:
    return HUMAN_WORDS.get(language[:2].lower(), HUMAN_WORDS["en"])


@dataclass(frozen=True)
class Prompt:
    """One thing to say: a catalogue id, an inline text, or an id with inline fallback.

    `texts` maps language -> template; the loader fills it from the catalogue (so a flow
    carries every text it speaks and the interpreter needs no catalogue) and from inline text.
    """

    prompt_id: str | None
    texts: Mapping[str, Template]
    line: int


@dataclass(frozen=True, kw_only=True)
class Node:
    id: str
    line: int
    lines: Mapping[str, int] = field(default_factory=dict)
    say: tuple[Prompt, ...] = ()
    resolves: str | None = None
    fails: str | None = None

    type_name = "node"
    waits = False  # True when the node ends a step (emits Gather/Enqueue/Record/Dial/...)

    def edges(self) -> list[tuple[str, int]]:
        """(target node id, line of the reference) for every way out of this node."""
        return [(target, self.lines.get(name, self.line))
                for name, target in self._targets() if target]

    def _targets(self) -> list[tuple[str, str | None]]:
        return []


@dataclass(frozen=True, kw_only=True)
class SayNode(Node):
    next: str | None = None
    type_name = "say"

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class MenuOption:
    key: str
    line: int
    goto: str | None = None
    language: str | None = None
    speech: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # lang or "*" -> words


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    options: tuple[MenuOption, ...] = ()
    timeout: int = 5
    retries: int = 2
    invalid: tuple[Prompt, ...] = ()
    no_input: tuple[Prompt, ...] = ()
    on_failure: str | None = None
    human: bool = True
    human_target: str | None = None  # the flow's human target, filled in by the loader
    speech: bool = True
    min_confidence: float = 0.3
    type_name = "menu"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        human = self.human_target if self.human else None
        return [("on_failure", self.on_failure), ("human", human)]

    def edges(self) -> list[tuple[str, int]]:
        own = [(o.goto, o.line) for o in self.options if o.goto]
        return own + super().edges()


@dataclass(frozen=True, kw_only=True)
class InputNode(Node):
    store: str = "input"
    min_length: int = 1
    max_length: int = 20
    checksum: str = "none"  # none | luhn | mod10
    timeout: int = 6
    retries: int = 2
    finish_on_key: str = "#"
    speech: bool = False
    invalid: tuple[Prompt, ...] = ()
    no_input: tuple[Prompt, ...] = ()
    next: str | None = None
    on_failure: str | None = None
    human: bool = True  # a lone 0 (or "agent" when speech is on) reaches a person
    human_target: str | None = None  # the flow's human target, filled in by the loader
    type_name = "input"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        human = self.human_target if self.human else None
        return [("next", self.next), ("on_failure", self.on_failure), ("human", human)]


@dataclass(frozen=True)
class Case:
    condition: Expr
    source: str
    goto: str
    line: int
    test: Test = field(init=False, compare=False, repr=False)
    """`condition` compiled once, when the flow loads (conditions.compile_condition)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", compile_condition(self.condition))


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    cases: tuple[Case, ...] = ()
    otherwise: str | None = None
    type_name = "branch"

    def edges(self) -> list[tuple[str, int]]:
        return [(c.goto, c.line) for c in self.cases] + super().edges()

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("else", self.otherwise)]


@dataclass(frozen=True, kw_only=True)
class HoursNode(Node):
    schedule: str = ""
    open: str | None = None
    closed: str | None = None
    holiday: str | None = None
    emergency: str | None = None
    type_name = "hours"

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("open", self.open), ("closed", self.closed), ("holiday", self.holiday),
                ("emergency", self.emergency)]


@dataclass(frozen=True, kw_only=True)
class LookupNode(Node):
    source: str = ""
    params: Mapping[str, Template] = field(default_factory=dict)
    store: str = "record"
    timeout: float = 3.0
    found: str | None = None
    not_found: str | None = None
    on_failure: str | None = None
    type_name = "lookup"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("found", self.found), ("not_found", self.not_found),
                ("on_failure", self.on_failure)]


@dataclass(frozen=True, kw_only=True)
class SetNode(Node):
    values: Mapping[str, Any] = field(default_factory=dict)  # name -> Template or plain value
    next: str | None = None
    type_name = "set"

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("next", self.next)]


QUEUE_RESULTS = ("bridged", "hangup", "leave", "callback", "voicemail", "queue-full",
                 "closed", "error")


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    queue: str = ""
    skill: str | None = None
    priority: int = 0
    reason: str | None = None
    offer_callback: bool = True
    offer_voicemail: bool = True
    results: Mapping[str, str] = field(default_factory=dict)  # queue_result -> node id
    type_name = "queue"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        return [(f"on_{name.replace('-', '_')}", target) for name, target in
                self.results.items()]


@dataclass(frozen=True, kw_only=True)
class VoicemailNode(Node):
    mailbox: str = "general"
    max_length: int = 120
    next: str | None = None
    type_name = "voicemail"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    number: str = ""
    timeout: int = 30
    caller_id: str | None = None
    next: str | None = None
    on_failure: str | None = None
    type_name = "transfer"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("next", self.next), ("on_failure", self.on_failure)]


@dataclass(frozen=True)
class Question:
    id: str
    prompt: tuple[Prompt, ...]
    kind: str  # "scale" (1-5) | "yes_no" (1 = yes, 2 = no, or spoken)
    line: int


@dataclass(frozen=True, kw_only=True)
class SurveyNode(Node):
    questions: tuple[Question, ...] = ()
    timeout: int = 6
    next: str | None = None
    sms: tuple[Prompt, ...] = ()  # survey by SMS after the call (ivr/domain/flow/sms_survey.py)
    sms_question: str | None = None  # the question the SMS asks (default: the first)
    human: bool = True  # 0 or "agent" reaches a person, as in menus
    human_target: str | None = None  # the flow's human target, filled in by the loader
    type_name = "survey"
    waits = True

    def _targets(self) -> list[tuple[str, str | None]]:
        human = self.human_target if self.human else None
        return [("next", self.next), ("human", human)]


@dataclass(frozen=True, kw_only=True)
class GotoNode(Node):
    target: str | None = None
    type_name = "goto"

    def _targets(self) -> list[tuple[str, str | None]]:
        return [("goto", self.target)]


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    reason: str = "completed"
    type_name = "hangup"
    waits = True


NODE_TYPES: Mapping[str, type[Node]] = {
    cls.type_name: cls for cls in (SayNode, MenuNode, InputNode, BranchNode, HoursNode,
                                   LookupNode, SetNode, QueueNode, VoicemailNode,
                                   TransferNode, SurveyNode, GotoNode, HangupNode)
}
TERMINAL_TYPES = (QueueNode, VoicemailNode, TransferNode, HangupNode)
HUMAN_TYPES = (QueueNode, TransferNode)


@dataclass(frozen=True)
class QueueRef:
    name: str
    skill: str | None
    line: int


@dataclass(frozen=True)
class Flow:
    """A validated flow. `version` is a content hash (the registry and CallState carry it)."""

    id: str
    file: str
    version: str
    numbers: tuple[str, ...]
    default: bool
    languages: tuple[str, ...]
    start: str
    human: str
    timezone: str
    nodes: Mapping[str, Node]
    queues: Mapping[str, QueueRef]
    schedules: Mapping[str, Schedule]
    prompts: Mapping[str, tuple[Prompt, ...]] = field(default_factory=dict)  # system prompts
    line: int = 1

    @property
    def language(self) -> str:
        return self.languages[0]
