"""Business hours: weekly opening times in a time zone, a holiday calendar, emergency closure.

Owns `Schedule`, `parse_schedule` (from the plain data of a flow's `hours:` section or any
settings file) and `status(schedule, now, flags)`. Pure: `now` is passed in (any time zone; it
is converted to the schedule's zone with zoneinfo), and the emergency switch is a flag the
adapter reads from wherever operators flip it and passes in. Must not read the clock or env.

Decisions: a range "09:00-17:30" opens at 09:00 and closes at 17:30 (exclusive); a range that
ends before it starts ("22:00-02:00") runs past midnight and belongs to the day it starts.
Emergency closure beats the `always_open` override, which beats holidays, which beat the
weekly hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TRUE_FLAGS = frozenset({"1", "true", "yes", "on", "closed"})

# Operators' override that opens every schedule (holidays included) until switched off: for a
# demo, a test line, or staying open late during an incident. Emergency closure still wins.
ALWAYS_OPEN_FLAG = "always_open"

Status = Literal["open", "closed", "holiday", "emergency"]


class HoursError(ValueError):
    """A schedule is malformed; the message names the part and the expected form."""


@dataclass(frozen=True)
class Schedule:
    timezone: str
    weekly: Mapping[int, tuple[tuple[time, time], ...]]  # weekday (0 = Monday) -> ranges
    holidays: frozenset[date] = frozenset()
    emergency_flag: str = "emergency_closed"


def flag_set(flags: Mapping[str, Any], name: str) -> bool:
    """Flags come from forms, env or Redis as text or booleans: "1"/"true"/"yes"/"on" count."""
    value = flags.get(name)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_FLAGS if value is not None else False


def _in_range(moment: time, start: time, end: time) -> bool:
    return start <= moment < end if start < end else moment >= start


def status(schedule: Schedule, now: datetime, flags: Mapping[str, Any] | None = None) -> Status:
    """Whether the business is open at `now` (timezone-aware), and if not, why."""
    if now.tzinfo is None:
        raise HoursError("now must carry a time zone; the domain never guesses the clock's")
    if flag_set(flags or {}, schedule.emergency_flag):
        return "emergency"
    if flag_set(flags or {}, ALWAYS_OPEN_FLAG):
        return "open"
    local = now.astimezone(ZoneInfo(schedule.timezone))
    if local.date() in schedule.holidays:
        return "holiday"
    moment = local.time().replace(tzinfo=None)
    for start, end in schedule.weekly.get(local.weekday(), ()):
        if _in_range(moment, start, end):
            return "open"
    yesterday = local.date() - timedelta(days=1)
    for start, end in schedule.weekly.get(yesterday.weekday(), ()):
        if end < start and moment < end and yesterday not in schedule.holidays:
            return "open"  # the tail of last night's range, past midnight
    return "closed"


def is_open(schedule: Schedule, now: datetime, flags: Mapping[str, Any] | None = None) -> bool:
    return status(schedule, now, flags) == "open"


def parse_time(text: object) -> time:
    if not isinstance(text, str):
        raise HoursError(f"time {text!r} must be quoted text like '17:30' (YAML reads "
                         "unquoted 17:30 as the number 1050)")
    try:
        return time.fromisoformat(text.strip() if len(text.strip()) > 4 else "0" + text.strip())
    except ValueError:
        raise HoursError(f"time {text!r} is not HH:MM, e.g. '09:00'") from None


def parse_range(value: object) -> tuple[time, time]:
    """'09:00-17:30' or {open: '09:00', close: '17:30'}."""
    if isinstance(value, Mapping):
        return parse_time(value.get("open")), parse_time(value.get("close"))
    if isinstance(value, str) and "-" in value:
        start, _, end = value.partition("-")
        return parse_time(start), parse_time(end)
    raise HoursError(f"opening hours {value!r} must be '09:00-17:30' or "
                     "{open: '09:00', close: '17:30'}")


def parse_days(key: str) -> list[int]:
    """'mon', 'mon-fri', 'sat,sun' or 'daily' -> weekday numbers."""
    if key.strip().lower() == "daily":
        return list(range(7))
    days: list[int] = []
    for part in key.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise HoursError(f"day {key!r} must be mon..sun, a range like mon-fri, or daily")
        start, end = DAYS.index(first), DAYS.index(last or first)
        days.extend(range(start, end + 1) if start <= end else [*range(start, 7),
                                                                  *range(0, end + 1)])
    return days


def _weekly(spec: Mapping[str, Any]) -> dict[int, tuple[tuple[time, time], ...]]:
    weekly: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, value in spec.items():
        closed = value in (None, "closed")
        ranges = () if closed else tuple(
            parse_range(v) for v in (value if isinstance(value, list) else [value]))
        for day in parse_days(str(key)):
            weekly[day] = weekly.get(day, ()) + ranges
    return weekly


def _holiday(value: object) -> date:
    if isinstance(value, Mapping):
        value = value.get("date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise HoursError(f"holiday {value!r} must be a date like '2026-12-25'") from None


def parse_schedule(spec: Mapping[str, Any]) -> Schedule:
    """Build a Schedule from plain data; raises HoursError naming the bad part."""
    zone = str(spec.get("timezone", ""))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {zone!r}; use an IANA name such as "
                         "'America/New_York'") from None
    weekly = spec.get("weekly") or {}
    if not isinstance(weekly, Mapping):
        raise HoursError("weekly must map days to opening hours, e.g. mon-fri: '09:00-17:00'")
    return Schedule(
        timezone=zone,
        weekly=_weekly(weekly),
        holidays=frozenset(_holiday(h) for h in spec.get("holidays") or ()),
        emergency_flag=str(spec.get("emergency_flag", "emergency_closed")),
    )
