"""Every config file as strict as a flow (issue 13, item 5): for queues.yaml, its `wallboard:`
section, lookups.yaml, followup.yaml and calendars.yaml, an unknown key, a wrong type and a
name nothing declares are refused with FILE:LINE and a reason, by `ivr check` and by the
loader the server starts with. Each case edits one line of a copy of the shipped files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboards.wallboard_config import load_thresholds
from ivr.commands.check import command as check_command
from ivr.config.calendars import load_calendars
from ivr.config.queues import load_queues
from ivr.domain.errors import ConfigError, FlowErrors
from ivr.flows.lookups import load_sources, source_problems
from ivr.flows.registry import flow_files, load_files
from ivr.outcomes.followup import load_rules_file, rules_problems
from ivr.prompts.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
FILES = ("queues.yaml", "lookups.yaml", "followup.yaml", "calendars.yaml")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the shipped configuration (flows, data files and all four config files)."""
    shutil.copytree(REPO / "callflows", tmp_path / "callflows")
    shutil.copytree(REPO / "data", tmp_path / "data")
    for name in FILES:
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def _flows(site: Path) -> dict:
    return load_files(flow_files(site / "callflows"), load_catalog(REPO / "prompts" /
                                                                   "catalog.yaml"),
                      load_calendars(site / "calendars.yaml"))


def load_queues_file(site: Path) -> list[str]:
    load_queues(site / "queues.yaml", calendars=load_calendars(site / "calendars.yaml"))
    return []


def load_wallboard(site: Path) -> list[str]:
    load_thresholds(site / "queues.yaml", ["billing", "sales", "support"],
                    load_calendars(site / "calendars.yaml"))
    return []


def load_lookups(site: Path) -> list[str]:
    sources = load_sources(site / "lookups.yaml")
    return [str(e) for e in source_problems(_flows(site), sources)]


def load_followup(site: Path) -> list[str]:
    rules = load_rules_file(site / "followup.yaml")
    return [str(e) for e in rules_problems(rules, _flows(site))]


def load_calendar_users(site: Path) -> list[str]:
    _flows(site)
    return load_queues_file(site)


CASES = [
    # queues.yaml
    ("queues.yaml", "    max_size: 1000\n", "    max_size: 1000\n    colour: red\n", "colour: red",
     "queues.support: unknown key 'colour'", load_queues_file),
    ("queues.yaml", "max_size: 500", "max_size: lots", "max_size: lots",
     "queues.sales.max_size: lots is read as text; it must be a whole number", load_queues_file),
    ("queues.yaml", "action: queue, target: support}", "action: queue, target: suport}",
     "target: suport", "queues.billing.overflow.target: unknown queue 'suport'; known: billing",
     load_queues_file),
    ("queues.yaml", "skills: [sales]", "skills: [sale]", "skills: [sale]",
     "unknown skill 'sale'", load_queues_file),
    ("queues.yaml", "    hours: sales\n", "    hours: salez\n", "hours: salez",
     "queues.sales.hours: unknown schedule 'salez'", load_queues_file),
    # the wallboard: section
    ("queues.yaml", "    wait_warn: 60 ", "    wait_warm: 60 ", "wait_warm",
     "wallboard.defaults: unknown key 'wait_warm'", load_wallboard),
    ("queues.yaml", "abandon_warn: 0.05", "abandon_warn: five", "abandon_warn: five",
     "wallboard.defaults.abandon_warn: five is read as text; it must be a number",
     load_wallboard),
    ("queues.yaml", "    sales: {wait_warn: 120", "    sale: {wait_warn: 120", "sale: {wait",
     "wallboard.queues: unknown queue 'sale'", load_wallboard),
    # lookups.yaml (and the sources flows name)
    ("lookups.yaml", "key: order_number}", "key: order_number, colour: red}", "orders:",
     "sources.orders: unknown key 'colour'", load_lookups),
    ("lookups.yaml", "  outages:", "  crm: {type: http, url: 'https://crm.example/{id}', "
     "timeout: soon}\n  outages:", "crm:", "sources.crm.timeout: soon is read as text; it "
     "must be a number", load_lookups),
    ("callflows/shop.yaml", "    source: orders", "    source: order", "lookup_order:",
     "lookup source 'order' is not in", load_lookups),
    ("callflows/shop.yaml", "{order_number: \"{{ order_number }}\"}",
     "{order: \"{{ order_number }}\"}", "lookup_order:",
     "node lookup_order: source 'orders' finds rows by 'order_number'; add it to params",
     load_lookups),
    # followup.yaml
    ("followup.yaml", "    min_wait: 60s\n", "    min_wait: 60s\n    colour: red\n",
     "colour: red", "rule abandoned_after_wait: unknown field 'colour'", load_followup),
    ("followup.yaml", "    due: 2h\n", "    due: soon\n", "due: soon",
     "due: soon is not a duration", load_followup),
    ("followup.yaml", "question: satisfaction", "question: satisfactio", "low_satisfaction:",
     "survey question 'satisfactio' is not asked by any flow", load_followup),
    # calendars.yaml (and the calendars flows and queues name)
    ("calendars.yaml", "    closed:", "    closd:", "closd:",
     "calendars.us_west: unknown key 'closd'", load_calendar_users),
    ("calendars.yaml", 'close: "13:00"', "close: 13:00", "close: 13:00",
     "close: 13:00 is read as a number; it must be a quoted time", load_calendar_users),
    ("calendars.yaml", "country: US", "country: XX", "public_holidays:",
     "calendars.us_west.public_holidays: Country XX", load_calendar_users),
    ("callflows/utility.yaml", "    calendar: us_west", "    calendar: us_east",
     "calendar: us_east", "hours.contact_center: unknown calendar 'us_east'; known: us_west",
     load_calendar_users),
    ("queues.yaml", "    calendar: us_west", "    calendar: us_east", "calendar: us_east",
     "schedules.support.calendar: unknown calendar 'us_east'; known: us_west",
     load_calendar_users),
]


def _edit(site: Path, name: str, old: str, new: str, marker: str) -> tuple[Path, int]:
    path = site / name
    text = path.read_text()
    assert old in text, f"{old!r} is not in the shipped {name}"
    path.write_text(text.replace(old, new, 1))
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if marker in text)
    return path, line


def _check(site: Path) -> tuple[int, list[str]]:
    env = {"IVR_FLOWS_DIR": str(site / "callflows"), "IVR_QUEUES_FILE": str(site / "queues.yaml"),
           "IVR_FOLLOWUP_FILE": str(site / "followup.yaml"),
           "IVR_CALENDARS_FILE": str(site / "calendars.yaml")}
    result = CliRunner().invoke(check_command, [], env=env)
    return result.exit_code, result.output.splitlines()


def test_the_shipped_files_pass(site: Path) -> None:
    code, output = _check(site)
    assert code == 0, output
    assert "next closures of" in "\n".join(output)


@pytest.mark.parametrize(("name", "old", "new", "marker", "message", "load"), CASES,
                         ids=[f"{c[0]}:{c[3]}" for c in CASES])
def test_a_bad_line_is_refused_at_its_line(site: Path, name: str, old: str, new: str,
                                           marker: str, message: str,
                                           load: Callable[[Path], list[str]]) -> None:
    path, line = _edit(site, name, old, new, marker)
    code, output = _check(site)
    assert code == 1
    hits = [o for o in output if o.startswith(f"{path}:{line}: ") and message in o]
    assert hits, f"expected {path}:{line}: ...{message}... in:\n" + "\n".join(output)
    try:
        found = load(site)
    except (FlowErrors, ConfigError) as exc:
        found = str(exc).splitlines()
    assert any(o.startswith(f"{path}:{line}: ") and message in o for o in found), found


def test_time_zones_and_times_are_checked_where_they_are_written(site: Path) -> None:
    path, line = _edit(site, "queues.yaml", "  timezone: America/Los_Angeles\n  short",
                       "  timezone: America/Los_Angels\n  short", "Los_Angels")
    calendars = site / "calendars.yaml"
    calendars.write_text(calendars.read_text().replace('close: "13:00"', 'close: "1 pm"'))
    cal_line = next(i for i, t in enumerate(calendars.read_text().splitlines(), 1)
                    if "1 pm" in t)
    code, output = _check(site)
    assert code == 1
    assert f"{path}:{line}: reporting.timezone: 'America/Los_Angels' is not an IANA time zone " \
           "such as America/Los_Angeles" in output
    assert f"{calendars}:{cal_line}: calendars.us_west.part_days[0].close: '1 pm' is not a " \
           "quoted time like '13:00'" in output


def test_public_holidays_come_from_the_holidays_package_minus_the_skipped(site: Path) -> None:
    from datetime import date

    calendar = load_calendars(site / "calendars.yaml")["us_west"]
    assert calendar.public(date(2027, 11, 25)) == "Thanksgiving Day"  # a year nobody typed
    # Presidents' Day and Susan B. Anthony Day fall together in 2027; the shipped calendar
    # skips the second. Cesar Chavez Day (California) is skipped too.
    assert calendar.public(date(2027, 2, 15)) == "Presidents' Day"
    assert calendar.public(date(2027, 3, 31)) is None
    assert calendar.public(date(2027, 3, 30)) is None


@pytest.mark.parametrize("kind", ["queues", "lookups", "calendars"])
def test_the_json_schema_takes_the_shipped_file_and_refuses_an_unknown_key(kind: str) -> None:
    """`ivr schema --file KIND` is generated from the shapes the loaders enforce."""
    import json

    import jsonschema
    import yaml

    from ivr.commands.schema import command as schema_command

    result = CliRunner().invoke(schema_command, ["--file", kind])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    data = json.loads(json.dumps(yaml.safe_load((REPO / f"{kind}.yaml").read_text()),
                                 default=str))  # dates as the text they were written as
    jsonschema.Draft202012Validator(schema).validate(data)
    bad = {**data, "colour": "red"}
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.Draft202012Validator(schema).validate(bad)
