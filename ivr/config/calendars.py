"""calendars.yaml: the named closure calendars that flows' `hours:` and queues.yaml's
`schedules:` name with `calendar: NAME`, so a holiday is written once for the whole line.

    calendars:
      us_west:
        public_holidays: {country: US, subdivision: CA, skip: ["Susan B. Anthony Day"]}
        closed: ["2026-12-31", {date: "12-26", name: Boxing Day}]   # 'MM-DD': every year
        part_days:
          - {date: "12-24", close: "13:00", name: Christmas Eve}

Owns reading the file (checked against `ivr.domain.config_formats.CALENDARS_FILE`, every
problem with FILE:LINE) and the adapter around the `holidays` package: a country's (and
subdivision's) public holidays for any year, looked up by the domain through
`Calendar.public` (ivr/domain/hours.py says why the package stays out of the domain).
`holidays` computes each year's dates on first use and keeps them, so a lookup after the
first of a year is a dict read. Where the file is: `Config.calendars_file`
(IVR_CALENDARS_FILE, default the repository's calendars.yaml).
Must not import Flask or Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import holidays

from ivr.config.yaml_lines import YamlLines
from ivr.domain.config_formats import CALENDARS_FILE
from ivr.domain.config_schema import check_text
from ivr.domain.errors import ConfigFileErrors
from ivr.domain.flow.yamlsource import Problems
from ivr.domain.hours import Calendar, Closure, HoursError, parse_closure


def load_calendars(path: Path) -> dict[str, Calendar]:
    """Every calendar in `path`; {} when the file is absent. Raises ConfigFileErrors with
    one FILE:LINE per problem (an unknown key, a bad date, a country `holidays` lacks)."""
    if not Path(path).is_file():
        return {}
    text = Path(path).read_text(encoding="utf-8")
    data, _ = check_text(text, str(path), CALENDARS_FILE)
    problems, lines = Problems(str(path)), YamlLines(text)
    calendars = {str(name): _calendar(str(name), spec or {}, problems, lines)
                 for name, spec in (data.get("calendars") or {}).items()}
    if problems.errors:
        raise ConfigFileErrors(sorted(problems.errors, key=lambda e: e.line))
    return calendars


def _calendar(name: str, spec: Mapping[str, Any], problems: Problems,
              lines: YamlLines) -> Calendar:
    dates: dict[date, Closure] = {}
    yearly: dict[tuple[int, int], Closure] = {}
    for section in ("closed", "part_days"):
        for i, raw in enumerate(spec.get(section) or ()):
            line = lines.line("calendars", name, section, i) or 1
            try:
                key, closure = parse_closure(raw, "closed" if section == "closed" else
                                             "part day")
            except HoursError as exc:
                problems.add(line, f"calendars.{name}.{section}[{i}]: {exc}")
                continue
            if section == "part_days" and closure.whole_day:
                problems.add(line, f"calendars.{name}.part_days[{i}]: give `close:` (and or "
                                   "`open:`), or list a whole day under `closed:`")
            target: Any = dates if isinstance(key, date) else yearly
            target[key] = closure
    public = _public(name, spec.get("public_holidays"), problems, lines)
    return Calendar(name, dates, yearly, public) if public else Calendar(name, dates, yearly)


def _public(name: str, spec: Mapping[str, Any] | None, problems: Problems,
            lines: YamlLines) -> Callable[[date], str | None] | None:
    """The `holidays` lookup for `spec` (None when there is none or it is refused)."""
    if not spec:
        return None
    try:
        table = holidays.country_holidays(str(spec["country"]),
                                          subdiv=spec.get("subdivision"))
    except NotImplementedError as exc:
        problems.add(lines.key_line("calendars", name, "public_holidays") or 1,
                     f"calendars.{name}.public_holidays: {exc}; use an ISO 3166 code the "
                     "`holidays` package knows (e.g. US, GB, DE) and its subdivision codes")
        return None
    return _PublicHolidays(table, frozenset(str(s) for s in spec.get("skip") or ()))


class _PublicHolidays:
    """day -> holiday name or None, from a plain dict per year built once (with the skipped
    names already left out). `holidays` tables fill a year in on first use by mutating
    themselves, which webhook threads must not do at the same time; a finished dict swapped
    in whole is safe to read from any thread, and a lookup is one dict read: status() with
    the shipped calendar took 10.0 us asking the table, 4.7 us with this (load average 13
    on 2 cores, so noisy), the same as a schedule's inline holiday list."""

    def __init__(self, table: holidays.HolidayBase, skip: frozenset[str]) -> None:
        self.table = table
        self.skip = skip
        self.years: dict[int, dict[date, str]] = {}
        self.lock = threading.Lock()

    def __call__(self, day: date) -> str | None:
        year = self.years.get(day.year)
        if year is None:
            with self.lock:
                year = self.years.get(day.year) or self._year(day.year)
        return year.get(day)

    def _year(self, year: int) -> dict[date, str]:
        table = holidays.country_holidays(self.table.country, subdiv=self.table.subdiv,
                                          years=year)
        built = {d: kept for d, names in table.items() if (kept := _kept(names, self.skip))}
        self.years = {**self.years, year: built}
        return built


def _kept(names: str | None, skip: frozenset[str]) -> str | None:
    """A day's holiday names ("A; B" when two fall together) minus the skipped ones."""
    if not names:
        return None
    kept = [n for n in names.split("; ") if n not in skip]
    return "; ".join(kept) or None
