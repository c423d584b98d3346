"""Which parts of an outcome event are personal data, and what the retention policy removes.

Owns `PERSONAL_FIELDS` (kind -> payload fields that identify or describe the customer),
`RECORDING_FIELDS` (the fields that point at a call's audio) and `redact_event`. The retention
job (`ivr/outcomes/retention.py`) rewrites the logged events with these and re-folds the call, so
the record keeps every figure a report needs (times, waits, talk time, outcome, queue, flow path,
survey scores) while the caller's number, what they said or keyed, transcripts, agents' notes
and SMS text are gone, and stay gone if the call is ever rebuilt from its events. Pure.

Decisions: keyed digits are personal (account, card and order numbers are keyed); node ids,
queue, agent ids, survey scores and durations are not. Extra fields a publisher added are kept
unless listed here, so a new personal field must be added here with its publisher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PERSONAL_FIELDS: Mapping[str, frozenset[str]] = {
    "call_started": frozenset({"caller"}),
    "input": frozenset({"digits", "speech"}),
    "callback_requested": frozenset({"number"}),
    "voicemail_recorded": frozenset({"url"}),
    "transcript_ready": frozenset({"text", "words", "recording_url"}),
    "transcript_failed": frozenset({"recording_url", "reason"}),
    "survey_answer": frozenset({"text", "from"}),
    "sms_survey_sent": frozenset({"to", "body"}),
    "disposition": frozenset({"notes"}),
    "recording": frozenset({"url"}),
    "recording_transcript_ready": frozenset({"text", "words", "recording_url"}),
    "recording_transcript_failed": frozenset({"recording_url", "reason"}),
}
RECORDING_FIELDS: Mapping[str, frozenset[str]] = {
    "voicemail_recorded": frozenset({"url"}),
    "transcript_ready": frozenset({"recording_url"}),
    "transcript_failed": frozenset({"recording_url"}),
    "recording": frozenset({"url"}),  # an agent call's (docs/agent-floor.md)
}
REDACTED_KIND = "redacted"  # the ledger row that says a call's personal data is gone


@dataclass(frozen=True)
class RetentionPolicy:
    """Days personal data and recordings are kept after the call; 0 or less = forever."""

    personal_days: int = 90
    recording_days: int = 30

    def cutoffs(self, now: float) -> tuple[float | None, float | None]:
        """(personal, recordings): calls that started before these epoch seconds are due;
        recordings are never kept longer than the call's personal data."""
        personal = now - self.personal_days * 86_400 if self.personal_days > 0 else None
        recordings = now - self.recording_days * 86_400 if self.recording_days > 0 else None
        if personal is not None and (recordings is None or recordings < personal):
            recordings = personal
        return personal, recordings


def redact_event(kind: str, data: Mapping[str, Any],
                 fields: Mapping[str, frozenset[str]] = PERSONAL_FIELDS) -> dict[str, Any]:
    """`data` without the fields `fields` lists for `kind` (a new dict; unknown kinds kept)."""
    drop = fields.get(kind, frozenset())
    return {name: value for name, value in data.items() if name not in drop}


def policy_from_config(config: Any) -> RetentionPolicy:
    """The policy from IVR_RETENTION_DAYS / IVR_RECORDING_RETENTION_DAYS (typed and checked
    by the settings, ivr/config/settings.py; `config` is duck-typed: the domain imports no
    configuration)."""
    return RetentionPolicy(config.retention_days, config.recording_retention_days)


DAY_S = 86_400


def failed_job_ttl(policy: RetentionPolicy) -> int | None:
    """Seconds RQ keeps a failed job (its arguments and traceback): the shorter retention
    period, or None (RQ's default, a year) when both keep forever."""
    days = [d for d in (policy.personal_days, policy.recording_days) if d > 0]
    return min(days) * DAY_S if days else None
