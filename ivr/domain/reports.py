"""Contact-centre figures per queue and per day or hour: the one definition of each figure.

The wallboard's "today" (dashboards/today.py), `ivr report` and `/api/reports` all compute here,
so they cannot disagree. docs/reports.md states every definition for readers; this module is
the executable version. Pure: facts in (plain dataclasses the store builds from the outcome
database), figures out; no SQL, no clock (`now` is passed in), times are epoch seconds (UTC).

Which time puts a fact in a bucket: a queue visit by when it joined the queue, a call (its
containment, survey and first-contact resolution) by when it started, a callback by when it was
requested. Queue rows take visits by their queue, calls by the last queue they visited (a call
that never queued appears only in the all-queues row, ALL) and callbacks by their queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ALL = "*"  # the all-queues row
DEFAULT_TARGET = 20.0  # seconds: service-level target of a queue that names none
SATISFIED = (4, 5)  # scores on the 1-5 `satisfaction` question that count as satisfied
KEPT = "completed"  # callback_done result: an attempt reached the caller and an agent


@dataclass(frozen=True)
class VisitFact:
    """One queue visit of a call (a call that moved queues has several)."""

    queue: str
    joined_at: float
    answered: bool
    wait_s: float | None
    talk_s: float | None
    result: str | None  # bridged, hangup, callback, voicemail, overflow, ... (queue_left)
    agent: str | None = None  # who answered
    range_width: float | None = None  # seconds: high - low of the range told at joining
    in_range: bool | None = None  # the real wait fell inside that range
    hold_s: float | None = None  # the answering agent's holds (ivr/domain/outcome_floor.py)
    hold_count: int | None = None
    after_call_s: float | None = None  # their wrap-up
    transferred: bool | None = None  # they transferred the caller

    @property
    def handle_s(self) -> float | None:
        """talk + hold + after-call work: the AHT numerator (None without talk)."""
        if self.talk_s is None:
            return None
        return self.talk_s + (self.hold_s or 0.0) + (self.after_call_s or 0.0)


@dataclass(frozen=True)
class WorkFact:
    """One agent's work on one call (outcome_record.AgentWork): the per-agent rows."""

    agent: str
    queue: str | None
    at: float  # answered, else the agent's first event on the call
    handled: bool
    talk_s: float | None
    hold_s: float
    hold_count: int
    after_call_s: float | None
    transfers: int

    @property
    def handle_s(self) -> float | None:
        if self.talk_s is None:
            return None
        return self.talk_s + self.hold_s + (self.after_call_s or 0.0)


@dataclass(frozen=True)
class CallFact:
    call_sid: str
    caller: str | None  # normalised number (ivr.domain.phone_numbers.canonical_number)
    started_at: float
    queue: str | None  # the last queue the call visited
    answered: bool
    contained: bool | None  # None: no self-service attempt (ivr/domain/outcome.py)
    satisfaction: int | None  # 1-5 answer to the `satisfaction` question
    resolved: str | None  # answer to the `resolved` question: "yes", "no" or None


@dataclass(frozen=True)
class CallbackFact:
    queue: str | None
    requested_at: float
    status: str  # pending, completed, gave_up, cancelled


@dataclass(frozen=True)
class ReportSettings:
    """From queues.yaml: `reporting: {timezone, short_abandon_seconds, repeat_window_hours}`
    and each queue's `service_level_target`."""

    timezone: str = "UTC"
    short_abandon_s: float = 5.0
    repeat_window_s: float = 24 * 3600.0
    targets: Mapping[str, float] = field(default_factory=dict)

    def target(self, queue: str) -> float:
        return float(self.targets.get(queue, DEFAULT_TARGET))


@dataclass(frozen=True)
class Bucket:
    label: str  # ISO local start, e.g. 2026-12-01 or 2026-12-01T09:00-08:00
    start: float
    end: float


@dataclass(frozen=True)
class Facts:
    visits: Sequence[VisitFact]
    calls: Sequence[CallFact]  # calls started in the period AND up to repeat_window after it
    callbacks: Sequence[CallbackFact]
    work: Sequence[WorkFact] = ()


@dataclass
class Figures:
    """One row of a report. Ratios are 0..1 (None without a denominator); seconds for times."""

    bucket: str
    queue: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_in_target: int = 0
    service_level: float | None = None
    service_level_target: float | None = None
    abandon_rate: float | None = None
    asa: float | None = None
    aht: float | None = None  # (talk + hold + after-call work) / handled (answered) calls
    talk: float | None = None  # mean talk per handled call
    hold: float | None = None  # mean hold per handled call
    holds: int = 0  # times callers were put on hold
    hold_time: float = 0.0  # seconds on hold in all
    after_call: float | None = None  # mean after-call work per handled call
    transfers: int = 0  # handled calls the agent transferred
    transfer_rate: float | None = None  # ... of handled calls
    ranges_told: int = 0  # answered callers whose announced range is known
    in_range_share: float | None = None  # ... of them, the share whose wait fell inside it
    range_width: float | None = None  # seconds: their ranges' mean width
    calls: int = 0
    self_service_attempted: int = 0
    self_service_contained: int = 0
    containment: float | None = None
    surveys: int = 0
    satisfaction: float | None = None
    satisfied_share: float | None = None
    fcr_eligible: int = 0
    fcr_resolved: int = 0
    fcr: float | None = None
    fcr_final: bool = True
    callbacks_promised: int = 0
    callbacks_kept: int = 0
    callbacks_failed: int = 0
    callbacks_pending: int = 0
    callbacks_kept_rate: float | None = None


def day_buckets(day: date, by: str, timezone: str) -> list[Bucket]:
    """The day (midnight to midnight in `timezone`) as one bucket, or its hours (23 or 25 on a
    daylight-saving change day: hours are real elapsed hours, labelled by local start)."""
    tz = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    after = day + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz)
    if by == "day":
        return [Bucket(day.isoformat(), start.timestamp(), end.timestamp())]
    if by != "hour":
        raise ValueError(f"report granularity {by!r}: use 'hour' or 'day'")
    out, at = [], start.timestamp()
    while at < end.timestamp():
        local = datetime.fromtimestamp(at, tz)
        out.append(Bucket(local.isoformat(timespec="minutes"), at, min(at + 3600,
                                                                        end.timestamp())))
        at += 3600
    return out


def compute_report(facts: Facts, buckets: Sequence[Bucket], settings: ReportSettings,
                   now: float, queue: str | None = None) -> list[Figures]:
    """Rows per bucket: every queue with activity (sorted), then ALL. With `queue`, only that
    queue's row (and no ALL row)."""
    later = _starts_by_caller(facts.calls)
    rows: list[Figures] = []
    for bucket in buckets:
        visits = [v for v in facts.visits if bucket.start <= v.joined_at < bucket.end]
        calls = [c for c in facts.calls if bucket.start <= c.started_at < bucket.end]
        callbacks = [c for c in facts.callbacks if bucket.start <= c.requested_at < bucket.end]
        names = sorted({v.queue for v in visits} | {c.queue for c in calls if c.queue}
                       | {c.queue for c in callbacks if c.queue})
        if queue is not None:
            names = [queue]
        for name in names:
            rows.append(_figures(bucket, name, [v for v in visits if v.queue == name],
                                 [c for c in calls if c.queue == name],
                                 [c for c in callbacks if c.queue == name],
                                 settings, later, now))
        if queue is None:
            rows.append(_figures(bucket, ALL, visits, calls, callbacks, settings, later, now))
    return rows


def _figures(bucket: Bucket, queue: str, visits: Sequence[VisitFact],
             calls: Sequence[CallFact], callbacks: Sequence[CallbackFact],
             settings: ReportSettings, later: Mapping[str, Sequence[float]],
             now: float) -> Figures:
    row = Figures(bucket=bucket.label, queue=queue)
    _queue_figures(row, visits, settings, None if queue == ALL else queue)
    _call_figures(row, calls, settings, later)
    row.fcr_final = now >= bucket.end + settings.repeat_window_s
    _callback_figures(row, callbacks)
    return row


def is_short_abandon(visit: VisitFact, settings: ReportSettings) -> bool:
    return (not visit.answered and visit.result == "hangup"
            and (visit.wait_s or 0.0) < settings.short_abandon_s)


def _queue_figures(row: Figures, visits: Sequence[VisitFact], settings: ReportSettings,
                   queue: str | None) -> None:
    counted = [v for v in visits if not is_short_abandon(v, settings)]
    answered = [v for v in counted if v.answered]
    abandoned = [v for v in counted if not v.answered and v.result == "hangup"]
    row.offered, row.answered, row.abandoned = len(counted), len(answered), len(abandoned)
    row.short_abandoned = len(visits) - len(counted)
    row.answered_in_target = sum(1 for v in answered
                                 if (v.wait_s or 0.0) <= settings.target(v.queue))
    row.service_level = _ratio(row.answered_in_target, len(answered) + len(abandoned))
    row.service_level_target = settings.target(queue) if queue else None
    row.abandon_rate = _ratio(len(abandoned), len(answered) + len(abandoned))
    row.asa = _mean([v.wait_s for v in answered if v.wait_s is not None], 1)
    _handle_figures(row, answered)
    told = [v for v in answered if v.in_range is not None and v.range_width is not None]
    row.ranges_told = len(told)
    row.in_range_share = _ratio(sum(1 for v in told if v.in_range), len(told))
    row.range_width = _mean([v.range_width or 0.0 for v in told], 1)


def _handle_figures(row: Figures, answered: Sequence[VisitFact]) -> None:
    """AHT and its parts over the handled (answered) visits whose talk is known."""
    timed = [v for v in answered if v.talk_s is not None]
    row.aht = _mean([v.handle_s or 0.0 for v in timed], 1)
    row.talk = _mean([v.talk_s or 0.0 for v in timed], 1)
    row.hold = _mean([v.hold_s or 0.0 for v in timed], 1)
    row.after_call = _mean([v.after_call_s or 0.0 for v in timed], 1)
    row.holds = sum(v.hold_count or 0 for v in answered)
    row.hold_time = round(sum(v.hold_s or 0.0 for v in answered), 1)
    row.transfers = sum(1 for v in answered if v.transferred)
    row.transfer_rate = _ratio(row.transfers, len(answered))


@dataclass
class AgentFigures:
    """One agent's row: the calls they handled in the bucket (by when they answered)."""

    bucket: str
    agent: str
    handled: int = 0
    aht: float | None = None  # (talk + hold + after-call work) / handled
    talk: float | None = None
    hold: float | None = None  # mean hold per handled call
    holds: int = 0
    hold_time: float = 0.0
    after_call: float | None = None
    transfers: int = 0
    transfer_rate: float | None = None


def compute_agent_report(work: Sequence[WorkFact], buckets: Sequence[Bucket],
                         queue: str | None = None) -> list[AgentFigures]:
    """Per bucket, one row per agent who handled a call in it (sorted by agent). With
    `queue`, only the work on that queue's calls."""
    rows: list[AgentFigures] = []
    for bucket in buckets:
        mine = [w for w in work if w.handled and bucket.start <= w.at < bucket.end
                and (queue is None or w.queue == queue)]
        for agent in sorted({w.agent for w in mine}):
            rows.append(agent_figures(bucket.label, agent, [w for w in mine if w.agent == agent]))
    return rows


def agent_figures(bucket: str, agent: str, work: Sequence[WorkFact]) -> AgentFigures:
    """The figures of one agent's handled calls (also the wallboard's agent table)."""
    row = AgentFigures(bucket=bucket, agent=agent, handled=len(work))
    timed = [w for w in work if w.talk_s is not None]
    row.aht = _mean([w.handle_s or 0.0 for w in timed], 1)
    row.talk = _mean([w.talk_s or 0.0 for w in timed], 1)
    row.hold = _mean([w.hold_s for w in timed], 1)
    row.after_call = _mean([w.after_call_s or 0.0 for w in timed], 1)
    row.holds = sum(w.hold_count for w in work)
    row.hold_time = round(sum(w.hold_s for w in work), 1)
    row.transfers = sum(1 for w in work if w.transfers)
    row.transfer_rate = _ratio(row.transfers, len(work))
    return row


def _call_figures(row: Figures, calls: Sequence[CallFact], settings: ReportSettings,
                  later: Mapping[str, Sequence[float]]) -> None:
    row.calls = len(calls)
    tried = [c for c in calls if c.contained is not None]
    row.self_service_attempted = len(tried)
    row.self_service_contained = sum(1 for c in tried if c.contained)
    row.containment = _ratio(row.self_service_contained, len(tried))
    scores = [c.satisfaction for c in calls if c.satisfaction is not None]
    row.surveys = len(scores)
    row.satisfaction = _mean([float(s) for s in scores], 2)
    row.satisfied_share = _ratio(sum(1 for s in scores if s in SATISFIED), len(scores))
    eligible = [c for c in calls if c.caller and (c.answered or c.contained)]
    row.fcr_eligible = len(eligible)
    row.fcr_resolved = sum(1 for c in eligible
                           if first_contact_resolved(c, later, settings.repeat_window_s))
    row.fcr = _ratio(row.fcr_resolved, len(eligible))


def first_contact_resolved(call: CallFact, later: Mapping[str, Sequence[float]],
                           window_s: float) -> bool:
    """Handled (answered or self-served), not answered "no" to `resolved`, and no call from
    the same number started within `window_s` after this one started."""
    if call.resolved == "no" or not call.caller:
        return False
    return not any(call.started_at < t <= call.started_at + window_s
                   for t in later.get(call.caller, ()))


def _callback_figures(row: Figures, callbacks: Sequence[CallbackFact]) -> None:
    row.callbacks_promised = sum(1 for c in callbacks if c.status != "cancelled")
    row.callbacks_kept = sum(1 for c in callbacks if c.status == KEPT)
    row.callbacks_pending = sum(1 for c in callbacks if c.status == "pending")
    row.callbacks_failed = row.callbacks_promised - row.callbacks_kept - row.callbacks_pending
    row.callbacks_kept_rate = _ratio(row.callbacks_kept,
                                     row.callbacks_kept + row.callbacks_failed)


def _starts_by_caller(calls: Iterable[CallFact]) -> dict[str, list[float]]:
    starts: dict[str, list[float]] = defaultdict(list)
    for c in calls:
        if c.caller:
            starts[c.caller].append(c.started_at)
    return dict(starts)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _mean(values: Sequence[float], digits: int) -> float | None:
    return round(sum(values) / len(values), digits) if values else None
