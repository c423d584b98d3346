"""The wallboard's last hour, minute by minute, from the outcome database: callers waiting
(the most at once during the minute) and service level per queue: of the callers whose wait
ended during the minute, answered within the queue's target / (answered + abandoned), hang-ups
within SHORT_ABANDON seconds not counted (the reports' definition, docs/reports.md).

Computed from `queue_visits`, not sampled by the page, so a screen opened now shows the whole
last hour, and every web process draws the same line (nothing is lost when one restarts). It
is as fresh as the outcome writer, a few seconds behind the live figures. `series` is plain
arithmetic on rows, tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, or_, select

from ivr.store.models import QueueVisitRow

MINUTES = 60
STALE = 6 * 3600.0  # a visit the writer never saw end is not "waiting" forever
SHORT_ABANDON = 5.0  # seconds (queues.yaml reporting.short_abandon_seconds): a misdial
DEFAULT_TARGET = 20.0


@dataclass(frozen=True)
class Visit:
    """One queue visit, times in epoch seconds; `until` is when waiting ended (answered or
    left), None while the caller still waits."""

    queue: str
    joined: float
    until: float | None
    answered: bool
    wait: float | None
    abandoned: bool = False


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def read_visits(engine: Engine, now: float) -> list[Visit]:
    """Visits that waited at some time during the last hour (two indexed ranges)."""
    start = datetime.fromtimestamp(now - MINUTES * 60, UTC)
    oldest = datetime.fromtimestamp(now - STALE, UTC)
    v = QueueVisitRow
    query = select(v.queue, v.joined_at, v.answered_at, v.left_at, v.wait_s, v.result).where(
        v.joined_at >= oldest, or_(v.left_at.is_(None), v.left_at >= start,
                                   v.answered_at >= start))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    visits = []
    for queue, joined, answered_at, left_at, wait, result in rows:
        ends = [t for t in (_epoch(answered_at), _epoch(left_at)) if t is not None]
        visits.append(Visit(queue, _epoch(joined) or 0.0, min(ends) if ends else None,
                            answered_at is not None, wait,
                            answered_at is None and result == "hangup"))
    return visits


def _most_waiting(visits: list[Visit], starts: list[float], now: float) -> list[int]:
    """The most callers waiting at once within each minute [start, start + 60)."""
    changes = sorted([(v.joined, 1) for v in visits] +
                     [(v.until, -1) for v in visits if v.until is not None],
                     key=lambda c: (c[0], c[1]))  # a departure before an arrival at one instant
    out, count, i = [], 0, 0
    for start in starts:
        while i < len(changes) and changes[i][0] < start:
            count += changes[i][1]
            i += 1
        peak = count
        end = min(start + 60, now)
        while i < len(changes) and changes[i][0] < end:
            count += changes[i][1]
            i += 1
            peak = max(peak, count)
        out.append(peak)
    return out


def _service_levels(visits: list[Visit], starts: list[float], target: float,
                    short: float) -> list[float | None]:
    ended: list[list[bool]] = [[] for _ in starts]  # per minute: in target or not
    first = starts[0]
    for v in visits:
        if v.until is None or v.until < first or not (v.answered or v.abandoned):
            continue
        wait = v.wait if v.wait is not None else v.until - v.joined
        slot = int((v.until - first) // 60)
        if slot < len(starts) and (v.answered or wait >= short):
            ended[slot].append(v.answered and wait <= target)
    return [round(sum(e) / len(e), 3) if e else None for e in ended]


def series(visits: Iterable[Visit], queues: Iterable[str], now: float,
           targets: Mapping[str, float], short_abandon: float = SHORT_ABANDON) -> dict[str, Any]:
    """{"minutes": [epoch of each minute's start], "queues": {q: {"waiting": [...],
    "service_level": [...]}}}, oldest first, the last minute being the current one."""
    this_minute = now - now % 60
    starts = [this_minute - 60 * (MINUTES - 1 - k) for k in range(MINUTES)]
    by_queue: dict[str, list[Visit]] = {q: [] for q in queues}
    for v in visits:
        if v.queue in by_queue:
            by_queue[v.queue].append(v)
    return {"minutes": starts, "queues": {
        q: {"waiting": _most_waiting(vs, starts, now),
            "service_level": _service_levels(vs, starts, targets.get(q, DEFAULT_TARGET),
                                             short_abandon)}
        for q, vs in by_queue.items()}}


def last_hour(engine: Engine, now: float, queues: Iterable[str],
              targets: Mapping[str, float], short_abandon: float = SHORT_ABANDON,
              ) -> dict[str, Any]:
    return series(read_visits(engine, now), list(queues), now, targets, short_abandon)

