"""What a call's record holds: `CallRecord` and its parts, as plain dataclasses.

The fold that fills them from the call's outcome events is ivr/domain/outcome.py (the agent
floor's part: ivr/domain/outcome_floor.py); the database writer (ivr/store/call_records.py)
and the reports read them. `Apply` is the one signature of the fold's appliers: how an event
of one kind changes the record. Pure: no I/O; times are epoch seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def optional_float(value: Any) -> float | None:
    """An event's optional number (an int or a float in the payload) as a float."""
    return None if value is None else float(value)


def found_or_added(items: list[T], match: Callable[[T], bool], make: Callable[[], T]) -> T:
    """The first of `items` that matches, else `make()` appended: an event may come before
    the one that starts what it names (a callback's attempt before its request)."""
    for item in items:
        if match(item):
            return item
    item = make()
    items.append(item)
    return item


# -- the agent floor's part (record.floor): holds, transfers, monitoring, each agent's work --

@dataclass
class AgentWork:
    """What one agent did on the call; `seq` orders agents by their first event."""

    agent: str
    first_at: float
    queue: str | None = None
    answered_at: float | None = None
    talk_s: float | None = None
    hold_s: float = 0.0
    holds: int = 0
    after_call_s: float | None = None
    transfers: int = 0
    handled: bool = False
    left_talk: float | None = None  # from agent_left (None: never reported)
    left_hold: float = 0.0
    legs: list[tuple[float, float]] = field(default_factory=list)  # (joined, left)
    ended_holds: int = 0
    ended_hold_s: float = 0.0
    started_holds: int = 0

    @property
    def handle_s(self) -> float | None:
        """talk + hold + after-call work (the AHT numerator), None without talk."""
        if self.talk_s is None:
            return None
        return self.talk_s + self.hold_s + (self.after_call_s or 0.0)


@dataclass
class Transfer:
    agent: str
    to_type: str
    to: str
    mode: str  # cold | warm
    result: str  # started | completed | cancelled | failed | caller_hung_up
    at: float


@dataclass
class PartyAdded:
    agent: str
    to_type: str
    to: str
    at: float


@dataclass
class Monitoring:
    supervisor: str
    mode: str  # listen | whisper | barge | stop
    agent: str | None
    at: float


@dataclass
class AgentRecording:
    recording_sid: str
    status: str  # the last action: started | paused | resumed | completed
    started_at: float
    duration_s: float | None = None
    channels: int | None = None
    pauses: int = 0


@dataclass
class MissedRing:
    agent: str
    result: str
    at: float


@dataclass
class CallerHungUp:
    """The caller hung up while in the conference with `agent` (the agent who had the call
    then), not after an agent left them to the flow."""

    agent: str | None
    at: float


@dataclass
class FloorRecord:
    """The floor's lists and totals on a CallRecord (`record.floor`)."""

    work: list[AgentWork] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    parties_added: list[PartyAdded] = field(default_factory=list)
    monitoring: list[Monitoring] = field(default_factory=list)
    recordings: list[AgentRecording] = field(default_factory=list)
    missed_rings: list[MissedRing] = field(default_factory=list)
    caller_hung_up: CallerHungUp | None = None
    hold_count: int = 0
    hold_s: float | None = None
    after_call_s: float | None = None
    transferred: bool = False
    holds: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each hold

    @property
    def agents(self) -> list[str]:
        """The agents who handled the call, in the order they came in."""
        return [w.agent for w in self.work if w.handled]


# -- the call --

@dataclass
class Step:
    """A node visit (`kind="visit"`, `left_at` = the next visit or the end) or an input.

    `detail` says what happened at a visit ("" when the call entered the node; "chose 2",
    "no input; retry 1 of 2", "found", ... when it answered there). `next_node`, on entries
    only, is the next node the call entered (None: the call ended at this node), so flow
    analytics count transitions and drop-offs with one GROUP BY (ivr/store/flow_analytics.py)."""

    kind: str
    node: str
    at: float
    left_at: float | None = None
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None
    detail: str | None = None
    next_node: str | None = None
    first_entry: bool = False  # the call's first entry into this node (distinct callers)

    @property
    def is_entry(self) -> bool:
        """The call entered the node here (not an answer given at it). Records older than
        details count every visit as an entry."""
        return self.kind == "visit" and not self.detail


@dataclass
class SelfServiceAttempt:
    node: str
    task: str
    solved: bool
    at: float


@dataclass
class QueueVisit:
    queue: str
    skill: str | None
    joined_at: float
    left_at: float | None = None
    result: str | None = None
    wait_s: float | None = None
    agent: str | None = None
    answered_at: float | None = None
    talk_s: float | None = None
    range_low: float | None = None  # the wait range announced at joining (answered callers)
    range_high: float | None = None
    in_range: bool | None = None  # whether the real wait fell inside it
    # the answering agent's work on the call (ivr/domain/outcome_floor.py)
    hold_s: float | None = None
    hold_count: int | None = None
    after_call_s: float | None = None
    transferred: bool | None = None

    @property
    def handle_s(self) -> float | None:
        """talk + hold + after-call work (docs/reports.md, AHT), None without talk."""
        if self.talk_s is None:
            return None
        return self.talk_s + (self.hold_s or 0.0) + (self.after_call_s or 0.0)


@dataclass
class CallbackAttempt:
    attempt: int
    at: float
    result: str
    leg_sid: str | None = None
    agent: str | None = None


@dataclass
class Callback:
    callback_id: str
    queue: str | None = None
    number: str | None = None
    requested_at: float | None = None
    status: str = "pending"
    done_at: float | None = None
    attempts: list[CallbackAttempt] = field(default_factory=list)
    attempts_counted: int | None = None  # as callback_done reports it (its last attempt's
    # own event may be applied after it)


@dataclass
class Voicemail:
    recording_sid: str
    url: str | None = None
    duration_s: float | None = None
    queue: str | None = None
    recorded_at: float | None = None
    transcript: str | None = None
    transcript_confidence: float | None = None
    transcribed_at: float | None = None
    transcript_error: str | None = None  # why there is no transcript (the voicemail stays)


@dataclass
class SurveyAnswer:
    question: str
    answer: str
    score: int | None
    at: float


@dataclass
class Disposition:
    agent: str
    code: str
    notes: str | None
    at: float


@dataclass
class CallRecord:
    """Everything the database keeps about one call; children are in time order."""

    call_sid: str
    caller: str | None = None
    dialed: str | None = None
    flow: str | None = None
    flow_version: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    duration_s: float | None = None
    end_status: str | None = None
    queue: str | None = None
    skill: str | None = None
    wait_s: float | None = None
    answered: bool = False
    abandoned: bool = False
    agent: str | None = None
    talk_s: float | None = None
    self_service_contained: bool | None = None
    outcome: str = "in_progress"
    steps: list[Step] = field(default_factory=list)
    self_service: list[SelfServiceAttempt] = field(default_factory=list)
    queue_visits: list[QueueVisit] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    voicemails: list[Voicemail] = field(default_factory=list)
    survey_answers: list[SurveyAnswer] = field(default_factory=list)
    dispositions: list[Disposition] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    floor: FloorRecord = field(default_factory=FloorRecord)  # holds, transfers, monitoring, ...


# How an event of one kind changes the record: (record, the event's `at`, its data).
Apply = Callable[[CallRecord, float, Mapping[str, Any]], None]
