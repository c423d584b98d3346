"""What a flow knows about a caller's past: the small per-caller summary and its variables.

The worker keeps the summary in Redis (ivr/store/caller_summary.py) after each call record is
written; the call-start webhook reads it in one round trip and hands `flow_variables` to the
interpreter as `history.*` (callflows/README.md). The summary stores start times rather than a
count, so "calls in the last 24 hours" is counted at the moment of the new call, not when the
summary was last written. Pure: values in, values out; `now` is passed in (epoch seconds).

Flow variables (a missing summary is a first-time caller: every count 0, every value none):
    history.returning          true when the summary knows an earlier call from this number
    history.calls_24h          calls from this number that started in the last 24 hours
    history.hours_since_last   hours since the last call started (none: first call)
    history.last_outcome       that call's outcome (answered, abandoned, callback, ...)
    history.last_satisfaction  the last 1-5 satisfaction score given (none: never answered)
    history.last_resolved      the last answer to "was it resolved" (yes, no, none)
    history.open_tasks         follow-up tasks not closed for this number
    history.unhappy            last_satisfaction <= 2 or open_tasks > 0 (a "not resolved"
                               answer usually opens a follow-up task, see followup.yaml)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

WINDOW_S = 24 * 3600.0
MAX_STARTS = 20  # start times kept: enough to count a day's repeats, small enough to read fast
FIELDS = ("starts", "last_seen", "last_outcome", "last_satisfaction", "last_resolved",
          "open_tasks", "calls")


def summary_fields(starts: Sequence[float], last_outcome: str | None,
                   last_satisfaction: int | None, last_resolved: str | None,
                   open_tasks: int, calls: int, now: float) -> dict[str, str]:
    """The Redis hash for a caller (text values; empty = unknown). `starts` are the start
    times of the caller's recent calls; only those within WINDOW_S of `now` are kept."""
    recent = sorted(t for t in starts if t >= now - WINDOW_S)[-MAX_STARTS:]
    return {
        "starts": ",".join(f"{t:.0f}" for t in recent),
        "last_seen": f"{max(starts):.0f}" if starts else "",
        "last_outcome": last_outcome or "",
        "last_satisfaction": "" if last_satisfaction is None else str(last_satisfaction),
        "last_resolved": last_resolved or "",
        "open_tasks": str(max(0, open_tasks)),
        "calls": str(max(0, calls)),
    }


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def flow_variables(raw: Mapping[str, str], now: float) -> dict[str, Any]:
    """`history.*` for the interpreter from the stored hash (see the module docstring). A
    malformed field reads as unknown rather than failing the call."""
    starts = [t for t in (_number(s) for s in (raw.get("starts") or "").split(",")) if t]
    last_seen = _number(raw.get("last_seen"))
    satisfaction = _number(raw.get("last_satisfaction"))
    tasks = int(_number(raw.get("open_tasks")) or 0)
    resolved = (raw.get("last_resolved") or "").strip().lower() or None
    values: dict[str, Any] = {
        "returning": last_seen is not None,
        "calls_24h": sum(1 for t in starts if now - WINDOW_S <= t <= now),
        "hours_since_last": round((now - last_seen) / 3600.0, 2) if last_seen else None,
        "last_outcome": raw.get("last_outcome") or None,
        "last_satisfaction": int(satisfaction) if satisfaction is not None else None,
        "last_resolved": resolved,
        "open_tasks": tasks,
    }
    values["unhappy"] = bool(
        (values["last_satisfaction"] is not None and values["last_satisfaction"] <= 2)
        or tasks > 0)
    return values


FIRST_TIME: dict[str, Any] = flow_variables({}, 0.0)
