"""`ivr check [PATH ...]`: validate every configuration file the way the server loads it.

Thin: collects flow files (a folder means its `*.yaml`) and loads them with the prompt
catalogue and calendars.yaml via `ivr.flows.registry.load_files` (so cross-file checks run
too); then calendars.yaml, queues.yaml (with its `wallboard:`, `business:` and callback
settings, each queue's `hold_audio:` and the agents' phone numbers under the callbacks'
toll-fraud rules), IVR_FALLBACK_NUMBER (the same rules; reported under the setting's name),
lookups.yaml (and the sources flows' lookup nodes name) and
followup.yaml (`--followup`, default IVR_FOLLOWUP_FILE; its survey questions must be asked by
the flows). Every file goes through the flows' machinery (`FlowError(file, line, reason)`), so
the output is one `FILE:LINE: message` per problem, every file at once, and exit 1. When all
is well it prints `ok:` lines and the next closures of each schedule that names a calendar
(`--closures N`). Meant for editors, pre-commit and CI.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from ivr.domain.errors import ConfigError, FlowError, FlowErrors

_FILE_LINE = re.compile(r"^(\S+?):(\d+): (.*)$", re.DOTALL)
T = TypeVar("T")


def _files(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def _collect(errors: list[FlowError], load: Callable[[], T], default: T) -> T:
    """`load()`, its problems added to `errors` (a ConfigError without a line is reported
    at line 0 of the file it names) and `default` returned instead."""
    try:
        return load()
    except FlowErrors as exc:
        errors.extend(exc.errors)
    except ConfigError as exc:
        found = _FILE_LINE.match(str(exc))
        errors.append(FlowError(found[1], int(found[2]), found[3]) if found else
                      FlowError(str(exc).partition(": ")[0], 0, str(exc).partition(": ")[2]))
    return default


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Prompt catalogue YAML.  [default: prompts/catalog.yaml]")
@click.option("--queues", "queues_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Queue configuration the flows' queues must exist in. "
              "[default: queues.yaml]")
@click.option("--followup", "followup_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Follow-up rules to check (skipped when absent). "
              "[default: followup.yaml]")
@click.option("--calendars", "calendars_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Closure calendars the schedules may name (an absent file "
              "declares none). [default: IVR_CALENDARS_FILE or calendars.yaml]")
@click.option("--closures", default=5, show_default=True,
              help="Closures listed per schedule that names a calendar (0: none).")
def command(paths: tuple[Path, ...], catalog: Path | None, queues_file: Path | None,
            followup_file: Path | None, calendars_file: Path | None, closures: int) -> None:
    """Check call flows (default: callflows/), calendars.yaml, queues.yaml, lookups.yaml and
    followup.yaml; exit 1 listing FILE:LINE: problems."""
    from ivr.config.settings import from_env

    config = from_env()
    catalog = catalog or config.prompts_catalog
    queues_path = queues_file or config.queues_file
    errors: list[FlowError] = []
    # A refused calendars file is reported once: the flows and queues are then checked
    # without calendars (names unchecked) rather than each reporting every name unknown.
    calendars: Any = _collect(errors, lambda: _calendars(calendars_file, config), None)
    flows, setup, boards = _check_all(_files(paths or (config.flows_dir,)), catalog,
                                      queues_path, calendars, config, errors)
    rules = _check_followup(followup_file or config.followup_file, flows, errors)
    if errors:
        for error in sorted(errors, key=lambda e: (e.file, e.line)):
            click.echo(str(error) if error.line else f"{error.file}: {error.reason}")
        sys.exit(1)
    click.echo(f"ok: {len(flows)} flows")
    if rules is not None:
        click.echo(f"ok: {len(rules.rules)} follow-up rules ({rules.file})")
    if boards:
        click.echo(f"ok: wallboard thresholds for {boards} queues")
    if calendars:
        click.echo(f"ok: {len(calendars)} calendars ({calendars_file or config.calendars_file})")
    _print_closures(flows, setup, queues_path, closures)


def _calendars(path: Path | None, config: Any) -> Any:
    from ivr.config.calendars import load_calendars

    return load_calendars(path or config.calendars_file)


def _check_all(files: list[Path], catalog: Path, queues_path: Path, calendars: Any,
               config: Any, errors: list[FlowError]) -> tuple[dict[str, Any], Any, int]:
    """Flows, queues.yaml (None when absent or refused) and the number of queues with
    wallboard thresholds; every problem goes to `errors`."""
    from ivr.app.queues_check import queue_problems
    from ivr.config.queues import load_queues
    from ivr.flows.lookups import load_sources, source_problems

    flows = _check_flows(files, catalog, calendars, errors)
    setup = _collect(errors, lambda: load_queues(queues_path, calendars=calendars),
                     None) if queues_path.exists() else None
    lookups_path = Path(config.flows_dir).parent / "lookups.yaml"
    sources = _collect(errors, lambda: load_sources(lookups_path),
                       None) if lookups_path.exists() else None
    if flows and sources is not None:
        errors.extend(source_problems(flows, sources, str(lookups_path)))
    boards = 0
    if setup is not None:
        errors.extend(queue_problems(flows, setup) if flows else [])
        boards = _collect(errors, lambda: _check_wallboard(queues_path, sorted(setup.queues),
                                                           calendars), 0)
        errors.extend(_check_hold_audio(queues_path, catalog.parent, config))
        errors.extend(_check_recording(queues_path, setup, catalog))
    errors.extend(_check_fallback_number(config, setup))
    return flows, setup, boards


def _check_fallback_number(config: Any, setup: Any) -> list[FlowError]:
    """IVR_FALLBACK_NUMBER against the callbacks' toll-fraud rules, for the countries the
    queues call back (queues.yaml absent or refused: the business's country)."""
    from ivr.outcomes.outgoing_numbers import fallback_number_problem, home_countries

    countries = setup.callback_countries if setup is not None else home_countries(config)
    problem = fallback_number_problem(config.fallback_number, countries)
    return [FlowError("IVR_FALLBACK_NUMBER", 0, problem)] if problem else []


def _check_recording(queues_path: Path, setup: Any, catalog: Path) -> list[FlowError]:
    """Each queue's `recording: {announcement:}` that names no prompt of the catalogue
    (ivr/config/queue_recording.py)."""
    from ivr.config.queue_recording import recording_problems
    from ivr.prompts.catalog import load_catalog

    ids: set[str] = _collect([], lambda: set(load_catalog(catalog).ids), set())
    return recording_problems(setup.queues, ids, str(queues_path), queues_path.read_text())


def _check_wallboard(queues_path: Path, queues: list[str], calendars: Any) -> int:
    """The `wallboard:` section of queues.yaml (dashboards/wallboard_config.py). Returns the
    number of queues it covers."""
    from dashboards.wallboard_config import load_thresholds

    return len(load_thresholds(queues_path, queues, calendars))


def _check_hold_audio(queues_path: Path, prompts_dir: Path, config: Any) -> list[FlowError]:
    """Each queue's `hold_audio:` (ivr/phone/hold_audio.py): a file under the prompts folder that
    exists, is 8 kHz mono WAV and fits one hold loop, or an https URL."""
    from ivr.phone.hold_audio import hold_audio_problems

    return hold_audio_problems(queues_path, prompts_dir, config.hold_pause)


def _check_flows(files: list[Path], catalog: Path, calendars: Any,
                 errors: list[FlowError]) -> dict[str, Any]:
    from ivr.flows.registry import load_files
    from ivr.prompts.catalog import load_catalog

    return _collect(errors, lambda: load_files(files, load_catalog(catalog), calendars), {})


def _check_followup(path: Path, flows: dict[str, Any], errors: list[FlowError]) -> Any:
    from ivr.outcomes.followup import load_rules_file, rules_problems

    if not path.exists():
        return None
    rules = _collect(errors, lambda: load_rules_file(path), None)
    if rules is not None:
        errors.extend(rules_problems(rules, flows))
    return rules


def _print_closures(flows: dict[str, Any], setup: Any, queues_path: Path, count: int) -> None:
    """The next `count` days each calendar-naming schedule closes for all or part of."""
    from ivr.domain.hours import next_closures

    schedules = [(f"{flow.file} hours.{name}", s) for flow in flows.values()
                 for name, s in flow.schedules.items()]
    schedules += [(f"{queues_path} schedules.{name}", s)
                  for name, s in (setup.schedules.items() if setup is not None else ())]
    for where, schedule in schedules:
        if schedule.calendar is None or count <= 0:
            continue
        today = datetime.now(ZoneInfo(schedule.timezone)).date()
        click.echo(f"next closures of {where} (calendar {schedule.calendar.name}):")
        for day, closure in next_closures(schedule, today, count):
            hours = ("closed all day" if closure.whole_day else
                     " ".join(part for part in (
                         f"opens {closure.open:%H:%M}" if closure.open else "",
                         f"closes {closure.close:%H:%M}" if closure.close else "") if part))
            click.echo(f"  {day:%a %Y-%m-%d}  {hours:<16}  {closure.name}")
