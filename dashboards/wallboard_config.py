"""Wallboard thresholds: when a queue's figures turn amber or red, from the `wallboard:`
section of queues.yaml, and the judgement of one queue's figures against them.

    wallboard:
      defaults:                 # every queue; each key optional (the values below are the defaults)
        wait_warn: 60           # seconds the longest-waiting caller has waited: amber
        wait_alert: 180         #   ... red, and an alert
        service_level_warn: 0.8 # today's service level below this: amber
        service_level_alert: 0.6#   ... red, and an alert
        abandon_warn: 0.05      # today's abandon rate above this: amber
        abandon_alert: 0.10     #   ... red, and an alert
        callback_overdue: 900   # seconds a callback may stay due and unplaced before it is overdue
      queues:
        sales: {wait_warn: 120} # per-queue overrides of the defaults

Service level is measured against each queue's `service_level_target` (queues.yaml, the
reports' setting); the thresholds here only say which levels are amber or red.

Owns the judgement and the checks a shape cannot make (a warn threshold past its alert one,
with FILE:LINE). The shape (keys, numbers, ranges, `queues:` naming queues of the file) is
declared in `ivr.domain.config_formats.WALLBOARD` and checked with the whole file by
`load_thresholds` (ConfigFileErrors, FILE:LINE per problem). Imports no Flask or Redis, so
the judgement is tested as plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ivr.config.yaml_lines import YamlLines
from ivr.domain.config_formats import QUEUES_FILE
from ivr.domain.config_schema import check_text
from ivr.domain.errors import ConfigError


@dataclass(frozen=True)
class Thresholds:
    wait_warn: float = 60.0
    wait_alert: float = 180.0
    service_level_warn: float = 0.8
    service_level_alert: float = 0.6
    abandon_warn: float = 0.05
    abandon_alert: float = 0.10
    callback_overdue: float = 900.0


KNOWN = tuple(f.name for f in fields(Thresholds))


def _apply(base: Thresholds, raw: Any, where: str) -> Thresholds:
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must map threshold names to numbers ({', '.join(KNOWN)})")
    unknown = sorted(set(map(str, raw)) - set(KNOWN))
    if unknown:
        raise ConfigError(f"{where}: unknown threshold(s) {unknown}; use {', '.join(KNOWN)}")
    try:
        values = {str(k): float(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: every threshold must be a number") from None
    out = replace(base, **values)
    if out.wait_warn > out.wait_alert or out.abandon_warn > out.abandon_alert:
        raise ConfigError(f"{where}: a *_warn threshold must not be past its *_alert one")
    if out.service_level_warn < out.service_level_alert:
        raise ConfigError(f"{where}: service_level_warn must be >= service_level_alert")
    return out


def parse_thresholds(data: Mapping[str, Any], queues: list[str],
                     source: str = "queues.yaml",
                     lines: YamlLines | None = None) -> dict[str, Thresholds]:
    """Thresholds per queue name (every queue listed, defaults where nothing is said)."""
    lines = lines or YamlLines()
    section = data.get("wallboard") or {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{source}: `wallboard:` must be a mapping with defaults/queues")
    defaults = _apply(Thresholds(), section.get("defaults"),
                      f"{lines.where(source, 'wallboard', 'defaults')}: wallboard.defaults")
    per_queue = section.get("queues") or {}
    unknown = sorted(set(map(str, per_queue)) - set(queues))
    if unknown:
        raise ConfigError(f"{source}: wallboard.queues names unknown queue(s) {unknown}; "
                          f"known: {sorted(queues)}")
    return {q: _apply(defaults, per_queue.get(q), f"{lines.where(source, 'wallboard', 'queues', q)}"
                                                  f": wallboard.queues.{q}")
            for q in queues}


def load_thresholds(path: Path, queues: list[str],
                    calendars: Collection[str] | None = None) -> dict[str, Thresholds]:
    """The thresholds of queues.yaml at `path`; ConfigFileErrors (FILE:LINE per problem)
    when the file does not fit its format, ConfigError for a warn past its alert.
    `calendars`: the names schedules may use (None: not checked)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the wallboard thresholds: {exc}") from exc
    data, _ = check_text(text, str(path), QUEUES_FILE, {"calendar": calendars})
    return parse_thresholds(data, queues, str(path), YamlLines(text))


def _level(value: float | None, warn: float, alert: float, *, low_is_bad: bool = False) -> str:
    if value is None:
        return "ok"
    if low_is_bad:
        return "alert" if value < alert else "warn" if value < warn else "ok"
    return "alert" if value >= alert else "warn" if value >= warn else "ok"


def minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{round(seconds)} s"
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"


def judge(row: Mapping[str, Any], t: Thresholds) -> tuple[dict[str, str], list[str]]:
    """(level per figure, alert sentences) for one queue's board row. A level is ok, warn
    or alert; only alert levels raise a sentence, which names the queue and the threshold."""
    q = row["queue"]
    levels = {
        "longest_wait": _level(row["longest_wait"], t.wait_warn, t.wait_alert),
        "service_level": _level(row.get("service_level"), t.service_level_warn,
                                t.service_level_alert, low_is_bad=True),
        "abandon_rate": _level(row.get("abandon_rate"), t.abandon_warn, t.abandon_alert),
        "callbacks_overdue": "alert" if row.get("callbacks_overdue") else "ok",
    }
    alerts = []
    if levels["longest_wait"] == "alert":
        alerts.append(f"{q}: a caller has waited {minutes(row['longest_wait'])} "
                      f"(alert at {minutes(t.wait_alert)})")
    if levels["service_level"] == "alert":
        alerts.append(f"{q}: service level {round(row['service_level'] * 100)} % today "
                      f"(alert below {round(t.service_level_alert * 100)} %)")
    if levels["abandon_rate"] == "alert":
        alerts.append(f"{q}: {round(row['abandon_rate'] * 100)} % of callers abandoned today "
                      f"(alert at {round(t.abandon_alert * 100)} %)")
    if levels["callbacks_overdue"] == "alert":
        alerts.append(f"{q}: {row['callbacks_overdue']} callback(s) overdue "
                      f"(due more than {minutes(t.callback_overdue)} ago)")
    if row["waiting"] and not sum(n for s, n in row["agents"].items() if s != "offline"):
        levels["waiting"] = "alert"
        alerts.append(f"{q}: {row['waiting']} caller(s) waiting and no agent signed in")
    return levels, alerts
