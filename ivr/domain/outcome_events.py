"""The outcome events' vocabulary: each kind's payload fields and types, and the check.

Owns `EVENT_FIELDS`, `EVENT_KINDS`, `BadEvent`, `event_problems` and `check_event`; the
publisher (ivr/store/events.py) refuses a payload that fails them, and the fold
(ivr/domain/outcome.py) reads only what they admit. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# kind -> field -> (accepted types, required). float fields accept ints; bool is never a number.
_S, _F, _I, _B, _L = (str,), (float, int), (int,), (bool,), (list,)
EVENT_FIELDS: Mapping[str, Mapping[str, tuple[tuple[type, ...], bool]]] = {
    "call_started": {"caller": (_S, True), "dialed": (_S, True), "flow": (_S, True),
                     "flow_version": (_S, False)},
    "node_visited": {"node": (_S, True)},  # one visit: what older publishers wrote
    "nodes_visited": {"nodes": (_L, True), "details": (_L, False)},  # one step's visits
    "input": {"node": (_S, True), "digits": (_S, False), "speech": (_S, False),
              "confidence": (_F, False)},
    "self_service": {"node": (_S, True), "task": (_S, True), "solved": (_B, True)},
    "queue_joined": {"queue": (_S, True), "skill": (_S, False)},
    "queue_left": {"queue": (_S, True), "result": (_S, True), "wait": (_F, False),
                   "range_low": (_F, False), "range_high": (_F, False),  # announced, s
                   "in_range": (_B, False)},  # the wait fell inside it (issue 15)
    "agent_answered": {"queue": (_S, True), "agent": (_S, True)},
    "call_ended": {"duration": (_F, False), "status": (_S, False)},
    "callback_requested": {"callback": (_S, True), "queue": (_S, True), "number": (_S, True)},
    "callback_attempt": {"callback": (_S, True), "attempt": (_I, True), "result": (_S, True),
                         "leg_sid": (_S, False), "agent": (_S, False)},
    "callback_done": {"callback": (_S, True), "result": (_S, True)},
    "voicemail_recorded": {"recording": (_S, True), "url": (_S, True),
                           "duration": (_F, False), "queue": (_S, False)},
    "transcript_ready": {"recording": (_S, True), "text": (_S, True),
                         "confidence": (_F, False)},
    "transcript_failed": {"recording": (_S, True), "code": (_S, True), "reason": (_S, False)},
    "survey_answer": {"question": (_S, True), "answer": (_S, True), "score": (_I, False)},
    "sms_survey_sent": {"question": (_S, True), "message": (_S, True)},
    "disposition": {"agent": (_S, True), "code": (_S, True), "notes": (_S, False),
                    "tags": (_L, False)},
    "tag": {"tag": (_S, True)},
    # the agent floor (issue 14, docs/agent-floor.md)
    "agent_left": {"agent": (_S, True), "talk": (_F, False), "hold": (_F, False)},
    "hold_started": {"agent": (_S, True)},
    "hold_ended": {"agent": (_S, True), "seconds": (_F, True)},
    "transfer": {"agent": (_S, True), "to_type": (_S, True), "to": (_S, True),
                 "mode": (_S, True), "result": (_S, True)},
    "party_added": {"agent": (_S, True), "to_type": (_S, True), "to": (_S, True)},
    "monitor": {"supervisor": (_S, True), "mode": (_S, True), "agent": (_S, False)},
    "recording": {"recording": (_S, True), "action": (_S, True), "duration": (_F, False),
                  "channels": (_I, False), "url": (_S, False)},
    # a recorded agent call's transcript (queue_worker/transcription.py): not a voicemail's
    "recording_transcript_ready": {"recording": (_S, True), "text": (_S, True),
                                   "confidence": (_F, False)},
    "recording_transcript_failed": {"recording": (_S, True), "code": (_S, True),
                                    "reason": (_S, False)},
    "agent_missed": {"agent": (_S, True), "result": (_S, True)},
    "caller_hung_up": {"agent": (_S, False)},
    "wrap_up": {"agent": (_S, True), "seconds": (_F, True), "ended": (_S, True),
                "extended": (_F, False)},
}
EVENT_KINDS = frozenset(EVENT_FIELDS)
# list fields whose items must be strings: kind -> (field, what one item is)
_STRING_LISTS = {"disposition": (("tags", "tag"),),
                 "nodes_visited": (("nodes", "node"), ("details", "detail"))}


class BadEvent(ValueError):
    """An event whose kind is unknown or whose payload does not match EVENT_FIELDS."""


def event_problems(kind: str, data: Mapping[str, Any]) -> list[str]:
    """Every way `data` fails the payload of `kind` (empty when it is fine). Extra fields are
    allowed, so a newer publisher can add one before the writer knows it."""
    spec = EVENT_FIELDS.get(kind)
    if spec is None:
        return [f"unknown event kind {kind!r}; known: {', '.join(sorted(EVENT_KINDS))}"]
    problems = []
    for name, (types, required) in spec.items():
        value = data.get(name)
        if value is None:
            if required:
                problems.append(f"{kind}: field {name!r} is required")
        elif isinstance(value, bool) and bool not in types or not isinstance(value, types):
            wanted = "/".join(t.__name__ for t in types)
            problems.append(f"{kind}: field {name!r} must be {wanted}, got {value!r}")
    for name, noun in _STRING_LISTS.get(kind, ()):
        items = data.get(name)
        if isinstance(items, list) and not all(isinstance(t, str) for t in items):
            problems.append(f"{kind}: every {noun} must be a string")
    return problems


def check_event(kind: str, data: Mapping[str, Any]) -> None:
    """Raise BadEvent naming every problem with this payload."""
    if problems := event_problems(kind, data):
        raise BadEvent("; ".join(problems))
