"""The `reporting:` section of queues.yaml (timezone, short abandons, repeat-call window) and
each queue's `service_level_target`: the settings every report is computed with.
Used by `ivr report`, `/api/reports` and the wallboard's today.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ivr.config.queues import load_queues
from ivr.domain.errors import ConfigError
from ivr.domain.flow.yamlsource import load_data
from ivr.domain.reports import ReportSettings, day_buckets


def load_report_settings(queues_file: Path) -> ReportSettings:
    """The `reporting:` section and each queue's `service_level_target`; defaults (UTC, 5 s,
    24 h, 20 s) when the file or the section is absent."""
    if not Path(queues_file).exists():
        return ReportSettings()
    setup = load_queues(Path(queues_file))
    raw = (load_data(Path(queues_file).read_text()) or {}).get("reporting") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{queues_file}: `reporting:` must be a mapping (timezone, "
                          "short_abandon_seconds, repeat_window_hours)")
    settings = ReportSettings(
        timezone=str(raw.get("timezone", "UTC")),
        short_abandon_s=float(raw.get("short_abandon_seconds", 5)),
        repeat_window_s=float(raw.get("repeat_window_hours", 24)) * 3600.0,
        targets={q.name: q.service_level_target for q in setup.queues.values()})
    try:
        day_buckets(date(2026, 1, 1), "day", settings.timezone)
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{queues_file}: reporting timezone {settings.timezone!r} is not "
                          f"an IANA name such as America/Los_Angeles ({exc})") from None
    return settings
