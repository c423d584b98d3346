"""Business hours: time zones, overnight ranges, holidays and the emergency switch."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.domain.hours import HoursError, parse_schedule, status

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
