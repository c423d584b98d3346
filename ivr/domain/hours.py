"""Business hours: weekly opening times in a time zone, a holiday calendar, emergency closure.

Owns `Schedule`, `Calendar` (named closures shared by flows and queues: calendars.yaml),
`parse_schedule` (from the plain data of a flow's `hours:` section or any settings file),
`status(schedule, now, flags)` and `next_closures` (what `ivr check` lists). Pure: `now` is
passed in (any time zone; it is converted to the schedule's zone with zoneinfo), and the
emergency switch is a flag the adapter reads from wherever operators flip it and passes in.
Must not read the clock or env.

Decisions: a range "09:00-17:30" opens at 09:00 and closes at 17:30 (exclusive); a range that
ends before it starts ("22:00-02:00") runs past midnight and belongs to the day it starts.
Emergency closure beats the `always_open` override, which beats holidays, which beat the
weekly hours. A part day (closes at 13:00 on Dec 24) keeps the weekly hours inside its own
open/close times; outside them, within the weekly hours, its status is "holiday".

Public holidays come from the `holidays` package, but through `Calendar.public`, a function
(day -> name or None) the adapter `ivr/config/calendars.py` builds and passes in. `holidays` does
no I/O, yet it stays out of the domain: it is a third-party rules database that changes with
each release (and the laws it follows), the domain's tests pin closures with plain dates
instead of with a library version, and the domain keeps to the standard library and PyYAML.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
class Closure:
    """A day the line is closed (`open` and `close` None) or open for part of it only."""

    name: str
    open: time | None = None
    close: time | None = None

    @property
    def whole_day(self) -> bool:
        return self.open is None and self.close is None

    def allows(self, moment: time) -> bool:
        """Whether `moment` falls inside a part day's own hours."""
        return (self.open is None or moment >= self.open) and (
            self.close is None or moment < self.close)


def _no_public_holidays(day: date) -> str | None:
    return None


@dataclass(frozen=True)
class Calendar:
    """Named closures: exact dates, dates every year ((month, day) keys) and public
    holidays (`public(day)` gives the holiday's name or None; see the module docstring)."""

    name: str
    dates: Mapping[date, Closure] = field(default_factory=dict)
    yearly: Mapping[tuple[int, int], Closure] = field(default_factory=dict)
    public: Callable[[date], str | None] = _no_public_holidays

    def closure(self, day: date) -> Closure | None:
        """The closure on `day`: an exact date beats a yearly one, which beats a public
        holiday (so a part day on a public holiday's date keeps its hours)."""
        found = self.dates.get(day) or self.yearly.get((day.month, day.day))
        if found is not None:
            return found
        name = self.public(day)
        return Closure(name) if name else None


@dataclass(frozen=True)
class Schedule:
    timezone: str
    weekly: Mapping[int, tuple[tuple[time, time], ...]]  # weekday (0 = Monday) -> ranges
    holidays: frozenset[date] = frozenset()
    emergency_flag: str = "emergency_closed"
    calendar: Calendar | None = None

    def closure(self, day: date) -> Closure | None:
        """The inline `holidays:` first, then the named calendar's closures."""
        if day in self.holidays:
            return Closure("holiday")
        return self.calendar.closure(day) if self.calendar is not None else None


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
    closure = schedule.closure(local.date())
    if closure is not None and closure.whole_day:
        return "holiday"
    moment = local.time().replace(tzinfo=None)
    for start, end in schedule.weekly.get(local.weekday(), ()):
        if _in_range(moment, start, end):
            return "open" if closure is None or closure.allows(moment) else "holiday"
    yesterday = local.date() - timedelta(days=1)
    before = schedule.closure(yesterday)
    for start, end in schedule.weekly.get(yesterday.weekday(), ()):
        if end < start and moment < end and (before is None or not before.whole_day):
            return "open"  # the tail of last night's range, past midnight
    return "closed"


def next_closures(schedule: Schedule, start: date, count: int = 5,
                  horizon_days: int = 730) -> list[tuple[date, Closure]]:
    """The next `count` days from `start` (included) on which the weekly hours would open but
    a closure shuts the line for the day or part of it; looks `horizon_days` ahead at most."""
    found: list[tuple[date, Closure]] = []
    for offset in range(horizon_days):
        day = start + timedelta(days=offset)
        closure = schedule.closure(day)
        if closure is not None and schedule.weekly.get(day.weekday()):
            found.append((day, closure))
            if len(found) == count:
                break
    return found


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


def parse_schedule(spec: Mapping[str, Any],
                   calendars: Mapping[str, Calendar] | None = None) -> Schedule:
    """Build a Schedule from plain data; raises HoursError naming the bad part. A
    `calendar:` name must be one of `calendars`; with `calendars` None (a reader that was
    given none) the name is kept on an empty calendar for the adapter to resolve."""
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
        calendar=_calendar(spec.get("calendar"), calendars),
    )


def _calendar(name: object, calendars: Mapping[str, Calendar] | None) -> Calendar | None:
    if name is None:
        return None
    if calendars is None:
        return Calendar(str(name))
    if str(name) not in calendars:
        raise HoursError(f"unknown calendar {name!r}; known: "
                         f"{', '.join(sorted(calendars)) or 'none (add calendars.yaml)'}")
    return calendars[str(name)]


def parse_closure(spec: Mapping[str, Any] | object, default_name: str) -> tuple[
        date | tuple[int, int], Closure]:
    """A closure from `'2026-12-24'`, `'12-24'` (every year) or `{date, name, open, close}`;
    the key is a date or a (month, day) pair."""
    raw = spec.get("date") if isinstance(spec, Mapping) else spec
    text = raw.isoformat() if isinstance(raw, date) else str(raw)
    try:
        key: date | tuple[int, int] = (date.fromisoformat(text) if len(text) > 5 else
                                       (int(text[:2]), int(text[3:5])))
        if isinstance(key, tuple):
            date(2024, *key)  # a leap year, so 02-29 is allowed
    except ValueError:
        raise HoursError(f"date {raw!r} must be like '2026-12-24' or '12-24'") from None
    if not isinstance(spec, Mapping):
        return key, Closure(default_name)
    opens = parse_time(spec["open"]) if spec.get("open") is not None else None
    closes = parse_time(spec["close"]) if spec.get("close") is not None else None
    return key, Closure(str(spec.get("name") or default_name), opens, closes)
