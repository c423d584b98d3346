"""What a call's record says: the fold of its outcome events.

Owns `fold_call(call_sid, events) -> CallRecord` (the events' vocabulary and payload check are
in ivr/domain/outcome_events.py). The database writer (`queue_worker/outcomes.py`)
and the reports share this one definition of wait, abandoned, talk time and contained, so a
wallboard and the database never disagree. Pure: no SQL, Redis, clock or environment; times are
epoch seconds (UTC) carried by the events. An event is `{"id", "kind", "call_sid", "at",
"data"}`; the fold sorts by `at` (stably), so redelivered or late events are applied by
re-folding the whole call.

Definitions (decisions, written down once):
- wait_s: sum over queue visits of the wait reported on `queue_left`, else left - joined, else
  (still in line at hang-up) end - joined.
- answered: an agent answered in some visit. abandoned: not answered, and a visit ended with
  result `hangup` (a callback leg answering counts on the callback, not the call).
- talk_s: per answered visit, `agent_answered` to the next `queue_joined` (transfer) or the end;
  on a conference (the agent floor) the agents' own talk, hold excluded, from `agent_left`.
- holds, after-call work, transfers, monitoring, recordings and each agent's work:
  ivr/domain/outcome_floor.py.
- self_service_contained: None without a self-service attempt; else True when an attempt solved
  the problem and the caller never joined a queue, asked for a callback or left a voicemail.
- outcome: the first that applies of answered, callback, voicemail, abandoned, self_service,
  ivr_hangup (ended otherwise), in_progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.domain.outcome_floor import FLOOR_APPLY, FloorRecord, finish_floor


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


_Apply = Callable[[CallRecord, float, Mapping[str, Any]], None]


def fold_call(call_sid: str, events: Iterable[Mapping[str, Any]]) -> CallRecord:
    """The record of `call_sid` from its events (any order; unknown kinds are ignored, so an
    old writer survives a new publisher). Events of other calls are skipped, not merged."""
    record = CallRecord(call_sid=call_sid)
    mine = [e for e in events if e.get("call_sid") == call_sid]
    for event in sorted(mine, key=lambda e: float(e["at"])):
        apply = _APPLY.get(str(event.get("kind")))
        if apply is not None:
            apply(record, float(event["at"]), event.get("data") or {})
    _finish(record)
    return record


def _call_started(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.caller, r.dialed, r.flow = d.get("caller"), d.get("dialed"), d.get("flow")
    r.flow_version = d.get("flow_version")
    r.started_at = at


def _node_visited(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.steps.append(Step(kind="visit", node=d["node"], at=at, detail=d.get("detail")))


def _nodes_visited(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    details = d.get("details") or []
    r.steps.extend(Step(kind="visit", node=node, at=at,
                        detail=details[i] if i < len(details) else None)
                   for i, node in enumerate(d["nodes"]))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _input(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.steps.append(Step(kind="input", node=d["node"], at=at, digits=d.get("digits"),
                        speech=d.get("speech"), confidence=_float(d.get("confidence"))))


def _self_service(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.self_service.append(SelfServiceAttempt(d["node"], d["task"], bool(d["solved"]), at))


def _queue_joined(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.queue_visits.append(QueueVisit(queue=d["queue"], skill=d.get("skill"), joined_at=at))


def _open_visit(r: CallRecord, queue: str, at: float) -> QueueVisit:
    """The latest visit to `queue` not yet left; a stand-in when its join event is missing."""
    for visit in reversed(r.queue_visits):
        if visit.queue == queue and visit.left_at is None:
            return visit
    visit = QueueVisit(queue=queue, skill=None, joined_at=at)
    r.queue_visits.append(visit)
    return visit


def _queue_left(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    visit = _open_visit(r, d["queue"], at)
    visit.left_at, visit.result = at, d["result"]
    visit.wait_s = _float(d.get("wait"))
    if visit.wait_s is None:
        visit.wait_s = at - visit.joined_at
    visit.range_low, visit.range_high = _float(d.get("range_low")), _float(d.get("range_high"))
    visit.in_range = d.get("in_range")


def _agent_answered(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    # Bridging may report the answer before or after the queue says the caller left.
    for visit in reversed(r.queue_visits):
        if visit.queue == d["queue"] and visit.answered_at is None:
            break
    else:
        visit = _open_visit(r, d["queue"], at)
    visit.agent, visit.answered_at = d["agent"], at


def _call_ended(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.ended_at, r.duration_s, r.end_status = at, _float(d.get("duration")), d.get("status")


def _callback(r: CallRecord, callback_id: str) -> Callback:
    found = [cb for cb in r.callbacks if cb.callback_id == callback_id]
    if not found:
        r.callbacks.append(Callback(callback_id=callback_id))
    return found[0] if found else r.callbacks[-1]


def _callback_requested(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    cb = _callback(r, d["callback"])
    cb.queue, cb.number, cb.requested_at = d["queue"], d.get("number"), at


def _callback_attempt(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    _callback(r, d["callback"]).attempts.append(CallbackAttempt(
        attempt=int(d["attempt"]), at=at, result=d["result"], leg_sid=d.get("leg_sid"),
        agent=d.get("agent")))


def _callback_done(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    cb = _callback(r, d["callback"])
    cb.status, cb.done_at = d["result"], at
    counted = d.get("attempts")
    cb.attempts_counted = counted if isinstance(counted, int) else None


def _voicemail(r: CallRecord, recording_sid: str) -> Voicemail:
    found = [vm for vm in r.voicemails if vm.recording_sid == recording_sid]
    if not found:
        r.voicemails.append(Voicemail(recording_sid=recording_sid))
    return found[0] if found else r.voicemails[-1]


def _voicemail_recorded(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    vm = _voicemail(r, d["recording"])
    vm.url, vm.queue, vm.recorded_at = d.get("url") or None, d.get("queue"), at
    vm.duration_s = _float(d.get("duration"))


def _transcript_ready(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    vm = _voicemail(r, d["recording"])
    vm.transcript, vm.transcribed_at = d.get("text"), at
    vm.transcript_confidence = _float(d.get("confidence"))


def _transcript_failed(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    _voicemail(r, d["recording"]).transcript_error = d["code"]


def _survey_answer(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    # One answer per question: a caller who re-answers (the flow repeated it) changed their mind.
    r.survey_answers = [a for a in r.survey_answers if a.question != d["question"]]
    r.survey_answers.append(SurveyAnswer(d["question"], d["answer"], d.get("score"), at))


def _disposition(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.dispositions.append(Disposition(d["agent"], d["code"], d.get("notes"), at))
    r.tags.extend(d.get("tags") or [])


_APPLY: Mapping[str, _Apply] = {
    "call_started": _call_started, "node_visited": _node_visited,
    "nodes_visited": _nodes_visited, "input": _input,
    "self_service": _self_service, "queue_joined": _queue_joined, "queue_left": _queue_left,
    "agent_answered": _agent_answered, "call_ended": _call_ended,
    "callback_requested": _callback_requested, "callback_attempt": _callback_attempt,
    "callback_done": _callback_done, "voicemail_recorded": _voicemail_recorded,
    "transcript_ready": _transcript_ready, "transcript_failed": _transcript_failed,
    "survey_answer": _survey_answer,
    "disposition": _disposition, "tag": lambda r, at, d: r.tags.append(d["tag"]),
    **FLOOR_APPLY,
}


def _finish(r: CallRecord) -> None:
    """The derived fields, once every event is in."""
    _close_steps(r.steps, r.ended_at)
    _close_visits(r.queue_visits, r.ended_at)
    visits = r.queue_visits
    if visits:
        r.queue, r.skill = visits[-1].queue, visits[-1].skill
        r.wait_s = sum(v.wait_s for v in visits if v.wait_s is not None)
    answered = [v for v in visits if v.answered_at is not None]
    r.answered = bool(answered)
    r.abandoned = not answered and any(v.result == "hangup" for v in visits)
    if answered:
        r.agent = answered[-1].agent
        talks = [v.talk_s for v in answered if v.talk_s is not None]
        r.talk_s = sum(talks) if talks else None
    finish_floor(r)
    if r.duration_s is None and r.started_at is not None and r.ended_at is not None:
        r.duration_s = r.ended_at - r.started_at
    if r.self_service:
        r.self_service_contained = any(a.solved for a in r.self_service) and not (
            visits or r.callbacks or r.voicemails)
    r.tags = sorted(set(r.tags))
    r.outcome = _outcome(r)


def _close_steps(steps: Sequence[Step], ended_at: float | None) -> None:
    visits = [s for s in steps if s.kind == "visit"]
    for here, after in zip(visits, [*(v.at for v in visits[1:]), ended_at], strict=False):
        here.left_at = after
    entries = [s for s in visits if s.is_entry]
    seen: set[str] = set()
    for i, here in enumerate(entries):
        here.next_node = entries[i + 1].node if i + 1 < len(entries) else None
        here.first_entry = here.node not in seen
        seen.add(here.node)


def _close_visits(visits: Sequence[QueueVisit], ended_at: float | None) -> None:
    for i, visit in enumerate(visits):
        later = [v.joined_at for v in visits[i + 1:] if v.joined_at >= visit.joined_at]
        until = later[0] if later else ended_at
        if visit.left_at is None and ended_at is not None and visit.answered_at is None:
            # Still in line when the call ended: the caller hung up waiting.
            visit.left_at, visit.result = ended_at, "hangup"
            visit.wait_s = ended_at - visit.joined_at
        if visit.answered_at is not None and until is not None:
            visit.talk_s = max(0.0, until - visit.answered_at)
            if visit.wait_s is None:
                visit.wait_s = visit.answered_at - visit.joined_at


def _outcome(r: CallRecord) -> str:
    if r.answered:
        return "answered"
    if r.callbacks:
        return "callback"
    if r.voicemails:
        return "voicemail"
    if r.abandoned:
        return "abandoned"
    if r.self_service_contained:
        return "self_service"
    return "ivr_hangup" if r.ended_at is not None else "in_progress"
