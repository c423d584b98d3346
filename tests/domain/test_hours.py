"""Business hours: time zones, overnight ranges, holidays and the emergency switch."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.hours import (
    Calendar,
    Closure,
    HoursError,
    next_closures,
    parse_closure,
    parse_schedule,
    status,
)

NY = ZoneInfo("America/New_York")
SHOP = parse_schedule({
    "timezone": "America/New_York",
    "weekly": {"mon-fri": "09:00-17:30", "sat": {"open": "10:00", "close": "14:00"},
               "sun": "closed", "fri": "22:00-02:00"},
    "holidays": ["2026-12-25", {"date": "2026-11-26", "name": "Thanksgiving"}],
})


@pytest.mark.parametrize(("when", "expected"), [
    (datetime(2026, 11, 24, 9, 0, tzinfo=NY), "open"),         # Tuesday at opening
    (datetime(2026, 11, 24, 17, 30, tzinfo=NY), "closed"),     # closing time is exclusive
    (datetime(2026, 11, 24, 8, 59, tzinfo=NY), "closed"),
    (datetime(2026, 11, 28, 11, 0, tzinfo=NY), "open"),        # Saturday
    (datetime(2026, 11, 29, 11, 0, tzinfo=NY), "closed"),      # Sunday
    (datetime(2026, 11, 27, 23, 0, tzinfo=NY), "open"),        # Friday night range
    (datetime(2026, 11, 28, 1, 30, tzinfo=NY), "open"),        # ... past midnight
    (datetime(2026, 11, 26, 10, 0, tzinfo=NY), "holiday"),
    (datetime(2026, 12, 25, 12, 0, tzinfo=NY), "holiday"),
])
def test_status(when: datetime, expected: str) -> None:
    assert status(SHOP, when) == expected


def test_now_in_another_zone_is_converted() -> None:
    # 14:30 UTC on Tuesday is 09:30 in New York (EST, UTC-5): open.
    assert status(SHOP, datetime(2026, 11, 24, 14, 30, tzinfo=UTC)) == "open"
    # 13:30 UTC is 08:30 in New York: closed, although 13:30 looks like office hours.
    assert status(SHOP, datetime(2026, 11, 24, 13, 30, tzinfo=UTC)) == "closed"


def test_daylight_saving_is_respected() -> None:
    # In July New York is UTC-4: 13:30 UTC is 09:30 local.
    assert status(SHOP, datetime(2026, 7, 14, 13, 30, tzinfo=UTC)) == "open"


@pytest.mark.parametrize("flag", [True, "1", "true", "YES", "on"])
def test_emergency_flag_beats_everything(flag: object) -> None:
    when = datetime(2026, 11, 24, 10, 0, tzinfo=NY)
    assert status(SHOP, when, {"emergency_closed": flag}) == "emergency"


@pytest.mark.parametrize("flag", [False, "0", "false", "", None])
def test_emergency_flag_off(flag: object) -> None:
    when = datetime(2026, 11, 24, 10, 0, tzinfo=NY)
    assert status(SHOP, when, {"emergency_closed": flag}) == "open"


def test_naive_time_is_refused() -> None:
    with pytest.raises(HoursError):
        status(SHOP, datetime(2026, 11, 24, 10, 0))


@pytest.mark.parametrize(("spec", "message"), [
    ({"timezone": "Nowhere/City"}, "unknown time zone"),
    ({"timezone": "UTC", "weekly": {"funday": "09:00-17:00"}}, "day 'funday'"),
    ({"timezone": "UTC", "weekly": {"mon": 1050}}, "opening hours 1050"),
    ({"timezone": "UTC", "weekly": {"mon": {"open": 540, "close": "17:00"}}},
     "must be quoted text"),
    ({"timezone": "UTC", "holidays": ["Christmas"]}, "holiday 'Christmas'"),
])
def test_bad_schedules_say_what_is_wrong(spec: dict[str, object], message: str) -> None:
    with pytest.raises(HoursError, match=message):
        parse_schedule(spec)


def _public(day: date) -> str | None:
    """A stand-in for the `holidays` package's table (the adapter passes the real one)."""
    return {date(2026, 12, 25): "Christmas Day", date(2027, 1, 1): "New Year's Day"}.get(day)


CAL = Calendar(
    "us", dates=dict([parse_closure({"date": "2026-12-28", "name": "Stocktake"}, "closed")]),
    yearly=dict([parse_closure({"date": "12-24", "close": "13:00", "name": "Eve"}, "part"),
                 parse_closure({"date": "12-31", "open": "10:00", "close": "15:00"}, "part")]),
    public=_public)
LINE = parse_schedule({"timezone": "America/New_York", "weekly": {"mon-sat": "09:00-17:00"},
                       "calendar": "us"}, {"us": CAL})


@pytest.mark.parametrize(("when", "expected"), [
    (datetime(2026, 12, 24, 12, 59, tzinfo=NY), "open"),      # a part day before it closes
    (datetime(2026, 12, 24, 13, 0, tzinfo=NY), "holiday"),    # ... and after
    (datetime(2027, 12, 24, 12, 0, tzinfo=NY), "open"),       # '12-24': every year
    (datetime(2027, 12, 24, 14, 0, tzinfo=NY), "holiday"),
    (datetime(2026, 12, 31, 9, 30, tzinfo=NY), "holiday"),    # opens late that day
    (datetime(2026, 12, 31, 10, 0, tzinfo=NY), "open"),
    (datetime(2026, 12, 31, 8, 0, tzinfo=NY), "closed"),      # outside the weekly hours
    (datetime(2026, 12, 25, 10, 0, tzinfo=NY), "holiday"),    # a public holiday
    (datetime(2026, 12, 28, 10, 0, tzinfo=NY), "holiday"),    # a custom date
    (datetime(2026, 12, 29, 10, 0, tzinfo=NY), "open"),
])
def test_a_calendar_closes_whole_and_part_days(when: datetime, expected: str) -> None:
    assert status(LINE, when) == expected


def test_next_closures_skip_days_the_line_is_shut_anyway() -> None:
    closures = next_closures(LINE, date(2026, 12, 20), 5)
    assert [(d.isoformat(), c.name) for d, c in closures] == [
        ("2026-12-24", "Eve"), ("2026-12-25", "Christmas Day"), ("2026-12-28", "Stocktake"),
        ("2026-12-31", "part"), ("2027-01-01", "New Year's Day")]
    assert closures[0][1] == Closure("Eve", None, time(13, 0))
    sunday_only = parse_schedule({"timezone": "America/New_York", "weekly": {"sun": "09:00-12:00"},
                                  "calendar": "us"}, {"us": CAL})
    assert next_closures(sunday_only, date(2026, 12, 20), 3, horizon_days=30) == []


def test_a_schedule_naming_an_unknown_calendar_is_refused() -> None:
    with pytest.raises(HoursError, match="unknown calendar 'eu'; known: us"):
        parse_schedule({"timezone": "UTC", "calendar": "eu"}, {"us": CAL})
