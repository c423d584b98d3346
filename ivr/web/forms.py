"""Parse Twilio's webhook form into the domain's `CallEvent`, ignoring unknown parameters.

Twilio adds parameters over time (WEBHOOKS.md 3.1: "the app must ignore unknown parameters"),
so only the names we use are read, each defensively: a malformed value is treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ivr.domain.flow.actions import CallEvent

# Caller data kept for the whole call and offered to flows (branch conditions, lookups).
CALLER_FIELDS = ("From", "To", "CallerName", "FromCity", "FromState", "FromZip", "FromCountry",
                 "ForwardedFrom", "Direction")


def caller_data(form: Mapping[str, str]) -> dict[str, str]:
    return {name: str(form[name])[:128] for name in CALLER_FIELDS if name in form}


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value: str | None) -> int:
    try:
        return int(float(value)) if value not in (None, "") else 0
    except ValueError:
        return 0


def callback_event(form: Mapping[str, str], now: datetime) -> CallEvent:
    """The event behind a Gather, Record or Dial action, told apart by its parameters."""
    if "RecordingUrl" in form:
        return CallEvent(kind="record_result", now=now, data={
            "url": form.get("RecordingUrl") or None,
            "duration": _int(form.get("RecordingDuration")),
            "digits": form.get("Digits", ""),
        })
    if "DialCallStatus" in form:
        return CallEvent(kind="dial_result", now=now, data={
            "status": form.get("DialCallStatus", "failed"),
            "duration": _int(form.get("DialCallDuration")),
        })
    digits = "".join(ch for ch in form.get("Digits", "") if ch in "0123456789*#") or None
    speech = (form.get("SpeechResult") or "").strip()[:500] or None
    return CallEvent(kind="input", now=now, digits=digits, speech=speech,
                     confidence=_float(form.get("Confidence")))


def queue_event(form: Mapping[str, str], now: datetime) -> CallEvent:
    """The Enqueue `action` request (WEBHOOKS.md 3.4): why the caller left the queue."""
    return CallEvent(kind="queue_result", now=now, data={
        "result": form.get("QueueResult", "error"),
        "wait": _int(form.get("QueueTime")),
    })


def seq_param(args: Mapping[str, str]) -> int | None:
    raw = args.get("seq", "")
    return int(raw) if raw.isdigit() and len(raw) < 6 else None


def dial_result(form: Mapping[str, str]) -> tuple[str, float | None]:
    """(DialCallStatus, DialCallDuration seconds or None) of a Dial action request."""
    status = (form.get("DialCallStatus") or "failed")[:20]
    duration = _float(form.get("DialCallDuration"))
    return status, duration
