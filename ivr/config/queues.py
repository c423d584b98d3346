"""Queue and agent configuration from `queues.yaml`, and the queue engine built from it.

Owns the file format (below), its validation (`ConfigError` naming the file, the queue and
the fix) and `build_queue_service(config, conn, trigger)`, which workers, the CLI and the web
layer call once at start-up. Reads no environment; takes a `Config`.

    queues:
      support:
        skill: support            # the skill an agent needs (required)
        max_size: 1000            # a caller beyond it is refused with "queue-full"
        hours: support            # a schedule under schedules: below; none = always open
        wrap_up_seconds: 30
        disposition_required: false   # true: wrap-up lasts until a disposition is filed
        ring_timeout: 20          # seconds an agent's phone rings before the caller goes back
        service_level_target: 20  # seconds: answered within this counts for service level
        hold_audio: music/x.wav   # or an https URL; read and checked by ivr/phone/hold_audio.py
        relax:                    # proficiency needed by seconds waited
          - {after: 0, min_level: 4}
          - {after: 30, min_level: 2}
        overflow: {after: 300, action: widen|queue|voicemail, target: sales, skills: [sales]}
        callback: {enabled: true, mode: agent_first|customer_first, retries: 2,
                   retry_delay: 300, ring_timeout: 25,
                   countries: [US, CA], max_per_number_per_day: 3}   # ivr/config/queue_callbacks.py
        recording: {mode: on, announcement: call_recording_notice, transcribe: false}
                                  # agent calls recorded: ivr/config/queue_recording.py
    business: {country: US}       # the default callback country (ivr/config/queue_callbacks.py)
    schedules:                    # opening hours (ivr/domain/hours.py)
      support: {timezone: America/Los_Angeles, weekly: {mon-fri: "07:00-20:00"},
                calendar: us_west}   # closures from calendars.yaml (ivr/config/calendars.py)
    agents:
      alice: {name: Alice, address: "client:alice", skills: {support: 5}}
    reporting:                    # read by ivr/store/reports.py (docs/reports.md)
      timezone: America/Los_Angeles   # the business day of reports and the wallboard
      short_abandon_seconds: 5
      repeat_window_hours: 24
    wallboard: ...                # dashboards/wallboard_config.py
    engine: ...                   # load_engine_options below

The whole file is checked against `ivr.domain.config_formats.QUEUES_FILE` first: an unknown
key, a wrong type, a number out of range or a name nothing declares (a queue's `hours:`, an
overflow's `target:` or `skills:`, a schedule's `calendar:`, a `wallboard.queues` entry) is
refused with FILE:LINE (ConfigFileErrors), every problem at once, before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from ivr.config.calendars import load_calendars
from ivr.config.queue_callbacks import agent_address_problem, business_country, parse_callback
from ivr.config.queue_recording import parse_recording
from ivr.config.yaml_lines import YamlLines
from ivr.domain import hours
from ivr.domain.config_formats import QUEUES_FILE
from ivr.domain.config_schema import check_text
from ivr.domain.errors import ConfigError
from ivr.domain.hours import Calendar, HoursError, Schedule, parse_schedule
from ivr.domain.queue_ports import RoutingTrigger
from ivr.domain.queueing import (
    DEFAULT_RELAX,
    Agent,
    OverflowRule,
    QueueConfig,
    RelaxStep,
)
from ivr.store.operator_flags import get_flags
from ivr.store.redis_queue import QueueService

OVERFLOW_ACTIONS = ("queue", "voicemail", "widen")


@dataclass(frozen=True)
class QueueSetup:
    queues: dict[str, QueueConfig]
    agents: list[Agent]
    schedules: dict[str, Schedule] = field(default_factory=dict)
    business_country: str = "US"  # ISO code; the default callback country

    @property
    def callback_countries(self) -> frozenset[str]:
        """Every country some queue calls back: where follow-up texts may go too."""
        return frozenset({self.business_country}) | countries_called(self.queues)


def countries_called(queues: Mapping[str, QueueConfig]) -> frozenset[str]:
    """Every country some queue calls back (the business's own included): where an agent's
    phone may be (ivr/config/queue_callbacks.py `agent_address_problem`)."""
    return frozenset().union(*({q.callback.home} | q.callback.countries
                               for q in queues.values()))


def load_queues(path: Path, caller_id: str | None = None,
                calendars: Mapping[str, Calendar] | None = None) -> QueueSetup:
    """Parse and check `queues.yaml`. Raises ConfigError saying what to fix: ConfigFileErrors
    (FILE:LINE per problem) for anything the format forbids. `caller_id` (IVR_CALLER_ID)
    gives the business's country when the file has no `business: {country: ...}`.
    `calendars` (calendars.yaml, `Config.calendars_file`) are the ones a schedule may name;
    without them the names are neither checked nor resolved (reports, agent pages)."""
    data, text = read_checked(Path(path), calendars)
    return parse_queues(data, str(path), YamlLines(text), caller_id, calendars)


def read_checked(path: Path, calendars: Mapping[str, Calendar] | None = None,
                 ) -> tuple[dict[str, Any], str]:
    """(plain data, text) of a queues.yaml that fits `QUEUES_FILE`, its schedules naming
    only `calendars` (None: not checked); ConfigFileErrors otherwise."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read queue configuration: {exc}") from exc
    data, _ = check_text(text, str(path), QUEUES_FILE, {"calendar": calendars})
    return data, text


def parse_queues(data: Mapping[str, Any], source: str = "queues.yaml",
                 lines: YamlLines | None = None, caller_id: str | None = None,
                 calendars: Mapping[str, Calendar] | None = None) -> QueueSetup:
    lines = lines or YamlLines()
    raw_queues = data.get("queues") or {}
    if not isinstance(raw_queues, Mapping) or not raw_queues:
        raise ConfigError(f"{lines.where(source, 'queues')}: add a `queues:` mapping with at "
                          "least one queue")
    home = business_country(data, source, lines, caller_id)
    queues = {str(name): _queue(str(name), spec or {}, source, lines, home)
              for name, spec in raw_queues.items()}
    for cfg in queues.values():
        if cfg.overflow and cfg.overflow.action == "queue" and cfg.overflow.target not in queues:
            raise ConfigError(f"{source}: queue {cfg.name!r} overflows to unknown queue "
                              f"{cfg.overflow.target!r}; name one of {sorted(queues)}")
    countries = countries_called(queues)
    agents = [_agent(str(a), spec or {}, source, lines, countries)
              for a, spec in (data.get("agents") or {}).items()]
    schedules = _schedules(data.get("schedules") or {}, source, lines, calendars)
    for cfg in queues.values():
        if cfg.hours and cfg.hours not in schedules:
            raise ConfigError(f"{source}: queue {cfg.name!r} names hours {cfg.hours!r}, which "
                              f"is not under `schedules:` (known: {sorted(schedules)})")
    return QueueSetup(queues, agents, schedules, home)


def _schedules(raw: Any, source: str, lines: YamlLines,
               calendars: Mapping[str, Calendar] | None) -> dict[str, Schedule]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: `schedules:` must map names to opening hours")
    out = {}
    for name, spec in raw.items():
        try:
            out[str(name)] = parse_schedule(spec or {}, calendars)
        except HoursError as exc:
            raise ConfigError(f"{lines.where(source, 'schedules', name)}: schedule "
                              f"{name!r}: {exc}") from None
    return out


def _queue(name: str, spec: Mapping[str, Any], source: str, lines: YamlLines,
           home: str) -> QueueConfig:
    where = f"{lines.where(source, 'queues', name)}: queue {name!r}"
    if not spec.get("skill"):
        raise ConfigError(f"{where} has no `skill`; add the skill its agents need")
    relax = tuple(RelaxStep(float(s["after"]), _level(s["min_level"], where))
                  for s in spec.get("relax") or ()) or DEFAULT_RELAX
    return QueueConfig(
        name=name,
        skill=str(spec["skill"]),
        max_size=int(spec.get("max_size", 1000)),
        hours=str(spec["hours"]) if spec.get("hours") else None,
        relax=relax,
        overflow=_overflow(spec.get("overflow"),
                           f"{lines.where(source, 'queues', name, 'overflow')}: queue {name!r}"),
        wrap_up_seconds=float(spec.get("wrap_up_seconds", 30)),
        disposition_required=bool(spec.get("disposition_required", False)),
        ring_timeout=int(spec.get("ring_timeout", 20)),
        callback=parse_callback(name, spec.get("callback"), source, lines, home),
        service_level_target=_seconds(spec.get("service_level_target", 20), where,
                                      "service_level_target"),
        recording=parse_recording(spec.get("recording")),
    )


def _seconds(value: Any, where: str, name: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds <= 0:
        raise ConfigError(f"{where}: {name} {value!r} must be a positive number of seconds")
    return seconds


def _level(value: Any, where: str) -> int:
    level = int(value)
    if not 1 <= level <= 5:
        raise ConfigError(f"{where}: proficiency {value!r} must be between 1 and 5")
    return level


def _overflow(spec: Mapping[str, Any] | None, where: str) -> OverflowRule | None:
    if not spec:
        return None
    action = str(spec.get("action", ""))
    if action not in OVERFLOW_ACTIONS:
        raise ConfigError(f"{where}: overflow action {action!r} must be one of {OVERFLOW_ACTIONS}")
    if action == "queue" and not spec.get("target"):
        raise ConfigError(f"{where}: overflow to a queue needs `target: <queue name>`")
    if action == "widen" and not spec.get("skills"):
        raise ConfigError(f"{where}: overflow `widen` needs `skills: [...]` to add")
    return OverflowRule(float(spec.get("after", 0)), action, spec.get("target"),
                        tuple(str(s) for s in spec.get("skills") or ()))


def _agent(agent_id: str, spec: Mapping[str, Any], source: str, lines: YamlLines,
           countries: frozenset[str]) -> Agent:
    """An agent's entry; a phone number as `address` must pass the callbacks' toll-fraud
    rules for `countries` (every country some queue calls back)."""
    where = f"{lines.where(source, 'agents', agent_id)}: agent {agent_id!r}"
    if not spec.get("address"):
        raise ConfigError(f"{where} has no `address`; give a phone number or client:name")
    problem = agent_address_problem(str(spec["address"]), countries)
    if problem:
        raise ConfigError(f"{lines.where(source, 'agents', agent_id, 'address')}: agent "
                          f"{agent_id!r} address: {problem}")
    skills = {str(k): _level(v, where) for k, v in (spec.get("skills") or {}).items()}
    return Agent(agent_id, str(spec.get("name", agent_id)), str(spec["address"]), skills)


ENGINE_OPTIONS = ("lease_seconds", "bridge_grace", "head", "recent", "tick_seconds")


def load_engine_options(path: Path) -> dict[str, float]:
    """The optional `engine:` section: lease_seconds (a reservation nobody completes is undone
    after this), bridge_grace, head (callers looked at per routing pass), recent (samples kept
    for the estimator), tick_seconds (routing timer while callers wait)."""
    data, _ = read_checked(Path(path))
    engine = data.get("engine") or {}
    unknown = set(engine) - set(ENGINE_OPTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown engine option(s) {sorted(unknown)}; "
                          f"use {ENGINE_OPTIONS}")
    return {k: (int(v) if k in ("head", "recent") else float(v)) for k, v in engine.items()}


def hours_checker(schedules: Mapping[str, Schedule],
                  flags: Callable[[], Mapping[str, Any]] = dict,
                  ) -> Callable[[str | None, float], bool]:
    """`is_open(hours_name, epoch_seconds)` for the queue engine: a queue without hours is
    always open; otherwise its schedule (ivr/domain/hours.py), with the operators' emergency
    switch read at each check."""

    def is_open(name: str | None, now: float) -> bool:
        if not name:
            return True
        return hours.is_open(schedules[name], datetime.fromtimestamp(now, UTC), flags())

    return is_open


def build_queue_service(config: Any, conn: redis.Redis,
                        trigger: RoutingTrigger | None = None, **options: Any) -> Any:
    """The QueueService for `config.queues_file`, agents from the file added (presence kept)."""
    import time


    setup = load_queues(Path(config.queues_file), config.caller_id,
                        load_calendars(config.calendars_file))
    svc = QueueService(conn, setup.queues, trigger=trigger,
                       is_open=hours_checker(setup.schedules, lambda: _operator_flags(conn)),
                       away_after_missed=config.away_after_missed,
                       device_stale_seconds=config.device_stale_seconds,
                       wrap_up_max_extend=config.wrap_up_max_extend, **options)
    now = time.time()
    for agent in setup.agents:
        svc.agents.upsert(agent, now)
    return svc


def _operator_flags(conn: redis.Redis) -> Mapping[str, Any]:
    return get_flags(conn)
