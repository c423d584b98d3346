"""Call progress status callbacks, as Twilio sends them for a call created with
`StatusCallback` and `StatusCallbackEvent` (initiated, ringing, answered, completed).

Twilio posts the call's usual parameters with CallStatus `initiated`, `ringing`, `in-progress`
(the answered event), then the final status (`completed`, or `busy`, `no-answer`, `failed`,
`canceled` when the callee never answered), plus `CallbackSource=call-progress-events`,
`SequenceNumber` (0, 1, ... per call) and `Timestamp` (RFC 2822). The completed event is
always sent; the others only when asked for, as on Twilio.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from devkit.twilio_standin.rest_json import date

EVENTS = ("initiated", "ringing", "answered", "completed")
STATUS_OF = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}
_sequence_lock = threading.Lock()


def parse_events(values: list[str]) -> frozenset[str]:
    """StatusCallbackEvent may be repeated or space-separated; unknown names are ignored."""
    words = {word for value in values for word in value.split()}
    return frozenset(words & set(EVENTS)) | {"completed"}


def progress_params(leg: Any, event: str) -> tuple[tuple[str, str], ...]:
    with _sequence_lock:
        counter = leg.__dict__.setdefault("_progress_sequence", itertools.count())
        number = next(counter)
    return (("CallbackSource", "call-progress-events"), ("SequenceNumber", str(number)),
            ("Timestamp", date()))


def send_progress(leg: Any, event: str) -> None:
    """Post one progress event (not `completed`: `CallLeg.finish` and the unanswered path
    send that) when the call asked for it. The leg shows the status meanwhile."""
    if not leg.status_callback or event not in leg.status_events:
        return
    shown = STATUS_OF[event]
    before, leg.status = leg.status, shown
    try:
        leg.notify(leg.status_callback, leg.status_callback_method,
                   progress_params(leg, event), f"status callback ({event})")
    finally:
        if event == "initiated":
            leg.status = before
