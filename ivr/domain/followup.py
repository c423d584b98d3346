"""Which follow-up tasks a call record calls for: records and rules in, task proposals out.

`evaluate(record, rules, now, earlier)` is what the outcome writer runs after each rewrite of
a call record; `evaluate_calls(records, rules, now)` does the same for a batch (a repair run,
the tests), taking repeat-caller history from the batch itself. Pure: no SQL, clock or files;
`now` is epoch seconds and sets `due_at = now + rule.due` (the due time counts from when the
task opens). Rules come from `ivr.domain.followup_rules`.

When a rule is final (it may open its task), decided once here and in docs/followup.md:
- abandoned: the record's outcome is `abandoned` (the caller hung up in line, which is the end
  of the call: nothing can follow) and the call's total wait >= min_wait.
- callback_failed: a callback of the call ended `gave_up` (the queue spent its retries) after
  at least min_attempts attempts.
- survey: the question was answered with a score <= at_most, or an answer among answers
  (answers are recorded once per question, so the first sight of one is final).
- voicemail: a voicemail was recorded; at once, without waiting for its transcript. The
  proposal carries the transcript (status ready) once transcript_ready arrived, status
  failed after transcript_failed, pending before: the task is never held back or dropped.
- self_service_failed: the call ended, self-service failed >= times, and the caller got no
  person, callback or voicemail (those open their own tasks or were handled).
- repeat_caller: this call started within `within` of `calls - 1` earlier calls from the same
  number (withheld numbers never match).
- disposition: an agent filed one of `codes` (e.g. follow_up from the agent console) on the
  call; the latest such disposition fills the placeholders.
A proposal is the same every time the same record is evaluated, so the store's unique
(rule, call) key makes re-evaluation harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ivr.domain.followup_rules import FollowupRules, Rule
from ivr.domain.outcome_record import CallRecord, Voicemail

WITHHELD = ("", "anonymous", "restricted", "unknown", "private")


@dataclass(frozen=True)
class PriorCall:
    """An earlier call of the same number (repeat-caller history)."""

    call_sid: str
    started_at: float


@dataclass(frozen=True)
class TaskProposal:
    """A task a rule asks for. The store opens it once per (rule, call_sid); later proposals
    for the same pair only bring the voicemail transcript up to date."""

    rule: str
    call_sid: str
    caller: str | None
    reason: str
    priority: int
    team: str | None
    due_at: float
    sms: str | None = None
    recording_sid: str | None = None
    transcript: str | None = None
    transcript_status: str | None = None  # pending | ready | failed (voicemail tasks only)


Match = dict[str, str]
_Matcher = Callable[[Rule, CallRecord, Sequence[PriorCall]], Match | None]


def evaluate(record: CallRecord, rules: FollowupRules, now: float,
             earlier: Sequence[PriorCall] = ()) -> list[TaskProposal]:
    """The proposals of every rule that is final and matches `record`, in rules-file order.
    `earlier`: the caller's other calls (any window: each rule keeps its own)."""
    proposals = []
    for rule in rules.rules:
        found = _MATCHERS[rule.kind](rule, record, earlier)
        if found is not None:
            proposals.append(_proposal(rule, record, found, rules.default_team, now))
    return proposals


def evaluate_calls(records: Iterable[CallRecord], rules: FollowupRules,
                   now: float) -> list[TaskProposal]:
    """`evaluate` for each record, with repeat-caller history taken from the other records."""
    records = list(records)
    by_caller: dict[str, list[PriorCall]] = {}
    for r in records:
        if r.caller and r.started_at is not None:
            by_caller.setdefault(r.caller, []).append(PriorCall(r.call_sid, r.started_at))
    return [p for r in records for p in evaluate(r, rules, now, by_caller.get(r.caller or "", []))]


def humanize_seconds(seconds: float) -> str:
    """45 s, 4 min, 1 h 5 min: how a reason reads to the person working the list."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _proposal(rule: Rule, r: CallRecord, found: Match, default_team: str | None,
              now: float) -> TaskProposal:
    queue = r.queue or next((v.queue for v in r.voicemails if v.queue), None)
    values = {"caller": r.caller or "unknown number", "queue": queue or default_team or "-",
              "flow": r.flow or "-", "call_sid": r.call_sid,
              "wait": humanize_seconds(r.wait_s or 0.0), **found}
    team = rule.team.format_map(values) if rule.team else None
    if team == "-" or (rule.team == "{queue}" and queue is None):
        team = default_team
    voicemail = r.voicemails[-1] if rule.kind == "voicemail" and r.voicemails else None
    return TaskProposal(
        rule=rule.id, call_sid=r.call_sid, caller=r.caller, reason=rule.reason.format_map(values),
        priority=rule.priority, team=team, due_at=now + rule.due_s,
        sms=rule.sms.format_map(values) if rule.sms else None,
        recording_sid=voicemail.recording_sid if voicemail else None,
        transcript=voicemail.transcript if voicemail else None,
        transcript_status=_transcript_status(voicemail) if voicemail else None)


def _transcript_status(vm: Voicemail) -> str:
    if vm.transcript is not None:
        return "ready"
    return "failed" if vm.transcript_error else "pending"


def _abandoned(rule: Rule, r: CallRecord, _earlier: Sequence[PriorCall]) -> Match | None:
    if r.outcome != "abandoned" or (r.wait_s or 0.0) < rule.min_wait_s:
        return None
    return {}


def _callback_failed(rule: Rule, r: CallRecord, _earlier: Sequence[PriorCall]) -> Match | None:
    for cb in r.callbacks:
        # callback_done is published before its last attempt's event: count what it says.
        attempts = max(len(cb.attempts), cb.attempts_counted or 0)
        if cb.status == "gave_up" and attempts >= rule.min_attempts:
            return {"attempts": str(attempts), "number": cb.number or "-"}
    return None


def _survey(rule: Rule, r: CallRecord, _earlier: Sequence[PriorCall]) -> Match | None:
    for a in r.survey_answers:
        if a.question != rule.question:
            continue
        low = rule.at_most is not None and a.score is not None and a.score <= rule.at_most
        if low or a.answer.strip().lower() in {x.lower() for x in rule.answers}:
            return {"question": a.question, "answer": a.answer,
                    "score": "-" if a.score is None else str(a.score)}
    return None


def _voicemail(rule: Rule, r: CallRecord, _earlier: Sequence[PriorCall]) -> Match | None:
    if not r.voicemails:
        return None
    duration = r.voicemails[-1].duration_s
    return {"duration": humanize_seconds(duration) if duration is not None else "-"}


def _self_service_failed(rule: Rule, r: CallRecord,
                         _earlier: Sequence[PriorCall]) -> Match | None:
    failed = [a for a in r.self_service if not a.solved]
    if r.ended_at is None or len(failed) < rule.times:
        return None
    if r.answered or r.callbacks or r.voicemails:
        return None
    return {"failures": str(len(failed)), "tasks": ", ".join(sorted({a.task for a in failed}))}


def _repeat_caller(rule: Rule, r: CallRecord, earlier: Sequence[PriorCall]) -> Match | None:
    if (r.caller or "").strip().lower() in WITHHELD or r.started_at is None:
        return None
    start = r.started_at
    before = {c.call_sid for c in earlier if c.call_sid != r.call_sid
              and start - rule.within_s <= c.started_at
              and (c.started_at, c.call_sid) < (start, r.call_sid)}
    if len(before) + 1 < rule.calls:
        return None
    return {"calls": str(len(before) + 1), "within": humanize_seconds(rule.within_s)}


def _disposition(rule: Rule, r: CallRecord, _earlier: Sequence[PriorCall]) -> Match | None:
    filed = [d for d in r.dispositions if d.code in rule.codes]
    if not filed:
        return None
    last = filed[-1]
    return {"agent": last.agent, "code": last.code, "notes": last.notes or "-"}


_MATCHERS: Mapping[str, _Matcher] = {
    "abandoned": _abandoned, "callback_failed": _callback_failed, "survey": _survey,
    "voicemail": _voicemail, "self_service_failed": _self_service_failed,
    "repeat_caller": _repeat_caller, "disposition": _disposition,
}
