"""What a call's record says: the fold of its outcome events.

Owns `fold_call(call_sid, events) -> CallRecord` and its one dispatch table, `APPLY`: every
event kind the fold reads, the agent floor's included, and the function that applies it (the
record's dataclasses are in ivr/domain/outcome_record.py, the floor's appliers in
ivr/domain/outcome_floor.py, the events' vocabulary and payload check in
ivr/domain/outcome_events.py). The database writer (`queue_worker/outcomes.py`)
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

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ivr.domain import outcome_floor as floor
from ivr.domain.outcome_record import (
    Apply,
    Callback,
    CallbackAttempt,
    CallRecord,
    Disposition,
    QueueVisit,
    SelfServiceAttempt,
    Step,
    SurveyAnswer,
    Voicemail,
    found_or_added,
    optional_float,
)


def fold_call(call_sid: str, events: Iterable[Mapping[str, Any]]) -> CallRecord:
    """The record of `call_sid` from its events (any order; unknown kinds are ignored, so an
    old writer survives a new publisher). Events of other calls are skipped, not merged."""
    record = CallRecord(call_sid=call_sid)
    mine = [e for e in events if e.get("call_sid") == call_sid]
    for event in sorted(mine, key=lambda e: float(e["at"])):
        apply = APPLY.get(str(event.get("kind")))
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


def _input(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.steps.append(Step(kind="input", node=d["node"], at=at, digits=d.get("digits"),
                        speech=d.get("speech"), confidence=optional_float(d.get("confidence"))))


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
    visit.wait_s = optional_float(d.get("wait"))
    if visit.wait_s is None:
        visit.wait_s = at - visit.joined_at
    visit.range_low = optional_float(d.get("range_low"))
    visit.range_high = optional_float(d.get("range_high"))
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
    r.ended_at, r.duration_s, r.end_status = at, optional_float(d.get("duration")), d.get("status")


def _callback(r: CallRecord, callback_id: str) -> Callback:
    return found_or_added(r.callbacks, lambda cb: cb.callback_id == callback_id,
                          lambda: Callback(callback_id=callback_id))


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
    return found_or_added(r.voicemails, lambda vm: vm.recording_sid == recording_sid,
                          lambda: Voicemail(recording_sid=recording_sid))


def _voicemail_recorded(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    vm = _voicemail(r, d["recording"])
    vm.url, vm.queue, vm.recorded_at = d.get("url") or None, d.get("queue"), at
    vm.duration_s = optional_float(d.get("duration"))


def _transcript_ready(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    vm = _voicemail(r, d["recording"])
    vm.transcript, vm.transcribed_at = d.get("text"), at
    vm.transcript_confidence = optional_float(d.get("confidence"))


def _transcript_failed(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    _voicemail(r, d["recording"]).transcript_error = d["code"]


def _survey_answer(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    # One answer per question: a caller who re-answers (the flow repeated it) changed their mind.
    r.survey_answers = [a for a in r.survey_answers if a.question != d["question"]]
    r.survey_answers.append(SurveyAnswer(d["question"], d["answer"], d.get("score"), at))


def _disposition(r: CallRecord, at: float, d: Mapping[str, Any]) -> None:
    r.dispositions.append(Disposition(d["agent"], d["code"], d.get("notes"), at))
    r.tags.extend(d.get("tags") or [])


# Every kind the fold reads, and how (ivr/domain/outcome_events.py's other kinds are read
# elsewhere: a recorded agent call's transcript, an SMS survey's question).
APPLY: Mapping[str, Apply] = {
    "call_started": _call_started, "node_visited": _node_visited,
    "nodes_visited": _nodes_visited, "input": _input,
    "self_service": _self_service, "queue_joined": _queue_joined, "queue_left": _queue_left,
    "agent_answered": _agent_answered, "call_ended": _call_ended,
    "callback_requested": _callback_requested, "callback_attempt": _callback_attempt,
    "callback_done": _callback_done, "voicemail_recorded": _voicemail_recorded,
    "transcript_ready": _transcript_ready, "transcript_failed": _transcript_failed,
    "survey_answer": _survey_answer,
    "disposition": _disposition, "tag": lambda r, at, d: r.tags.append(d["tag"]),
    # the agent floor
    "agent_left": floor.agent_left, "hold_started": floor.hold_started,
    "hold_ended": floor.hold_ended, "wrap_up": floor.wrap_up, "transfer": floor.transfer,
    "party_added": floor.party_added, "monitor": floor.monitor,
    "recording": floor.recording, "agent_missed": floor.agent_missed,
    "caller_hung_up": floor.caller_hung_up,
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
    floor.finish_floor(r)
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
