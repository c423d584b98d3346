"""Calls that joined each queue per 15-minute slot, today and on the same weekday of recent
weeks, from the outcome database's queue visits: the staffing advisor's arrival history
(ivr/domain/staffing_advice.py forecasts from it).

Slots are by the business timezone's wall clock (queues.yaml `reporting.timezone`), so 9:00
on a Monday lines up with 9:00 on the Mondays before, across clock changes. Each day is one
range read of the (queue, joined_at) index that every queue visit already has; only join
times are fetched and counted here. Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, or_, select

from ivr.domain.staffing_advice import SLOT, SLOTS_PER_DAY, Arrivals
from ivr.store import models as m

WEEKS = 4  # same weekdays looked back at for the day's pattern


def _day_range(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    after = day + timedelta(days=1)
    return (datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC),
            datetime(after.year, after.month, after.day, tzinfo=tz).astimezone(UTC))


def _slot(joined: datetime, tz: ZoneInfo) -> tuple[date, int]:
    local = (joined if joined.tzinfo else joined.replace(tzinfo=UTC)).astimezone(tz)
    return local.date(), min((local.hour * 60 + local.minute) // 15, SLOTS_PER_DAY - 1)


def read_arrivals(engine: Engine, queues: Iterable[str], now: datetime, timezone: str = "UTC",
                  weeks: int = WEEKS) -> dict[str, Arrivals]:
    """Per queue: today's counts per slot up to the current one (which has run `elapsed`
    seconds), and the same weekday of the last `weeks` weeks (weeks with no call to any of
    `queues` are left out: a system younger than a month has a shorter pattern, not zeros)."""
    names = sorted(set(queues))
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    today = local.date()
    days = [today - timedelta(days=7 * k) for k in range(weeks + 1)]
    ranges = [_day_range(d, tz) for d in days]
    ranges[0] = (ranges[0][0], now.astimezone(UTC))
    v = m.QueueVisitRow
    query = select(v.queue, v.joined_at).where(
        v.queue.in_(names), or_(*[and_(v.joined_at >= s, v.joined_at < e) for s, e in ranges]))
    counts = {(q, d): [0] * SLOTS_PER_DAY for q in names for d in days}
    with engine.connect() as conn:
        for queue, joined in conn.execute(query):
            day, slot = _slot(joined, tz)
            if (queue, day) in counts:
                counts[(queue, day)][slot] += 1
    current = (local.hour * 60 + local.minute) // 15
    elapsed = local.minute % 15 * 60 + local.second + local.microsecond / 1e6
    seen = [d for d in days[1:] if any(sum(counts[(q, d)]) for q in names)]
    return {q: Arrivals(today=tuple(counts[(q, today)][:current + 1]),
                        past=tuple(tuple(counts[(q, d)]) for d in seen),
                        elapsed=min(elapsed, SLOT)) for q in names}
