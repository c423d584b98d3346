"""Queue opening hours from queues.yaml `schedules:`, and the emergency switch."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.config.queues import hours_checker, parse_queues
from ivr.domain.errors import ConfigError

LA = ZoneInfo("America/Los_Angeles")
SETUP = {
    "queues": {"support": {"skill": "support", "hours": "day"}, "night": {"skill": "support"}},
    "schedules": {"day": {"timezone": "America/Los_Angeles",
                          "weekly": {"mon-fri": "08:00-18:00"}, "holidays": ["2026-12-25"]}},
}


def at(*args: int) -> float:
    return datetime(*args, tzinfo=LA).timestamp()


def test_queue_follows_its_schedule_and_holidays():
    setup = parse_queues(SETUP)
    is_open = hours_checker(setup.schedules)
    assert is_open("day", at(2026, 11, 24, 9, 0))  # Tuesday morning
    assert not is_open("day", at(2026, 11, 24, 19, 0))  # Tuesday evening
    assert not is_open("day", at(2026, 12, 25, 10, 0))  # a holiday
    assert is_open(None, at(2026, 12, 25, 3, 0))  # no hours: always open


def test_emergency_switch_closes_the_queue():
    setup = parse_queues(SETUP)
    flags = {"emergency_closed": "on"}
    assert not hours_checker(setup.schedules, lambda: flags)("day", at(2026, 11, 24, 9, 0))


def test_unknown_schedule_is_refused_with_the_fix():
    bad = {**SETUP, "schedules": {}}
    with pytest.raises(ConfigError, match="names hours 'day'.*schedules"):
        parse_queues(bad)


def test_bad_schedule_names_the_part():
    bad = {**SETUP, "schedules": {"day": {"timezone": "Mars/Olympus"}}}
    with pytest.raises(ConfigError, match="schedule 'day': unknown time zone"):
        parse_queues(bad)
