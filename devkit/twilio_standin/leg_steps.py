"""What comes next for a call leg, and why another thread interrupted it: the small values
`CallLeg` (leg.py), the verbs (verbs.py) and the hold loop (queue_wait.py) pass each other."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any


# What a verb tells the engine to do next (None: go on with the next verb).
@dataclass(frozen=True)
class Goto:
    url: str
    method: str = "POST"
    params: tuple[tuple[str, str], ...] = ()
    context: str = "document"
    label: str = "webhook"


@dataclass(frozen=True)
class Inline:
    twiml: str
    context: str = "document"


@dataclass(frozen=True)
class End:
    reason: str


@dataclass(frozen=True)
class LeaveQueue:
    pass


Next = Goto | Inline | End | LeaveQueue | None


# Why another thread interrupted the leg.
@dataclass(frozen=True)
class Redirected:
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None


@dataclass(frozen=True)
class Bridged:
    partner_sid: str
    talk_seconds: float


@dataclass(frozen=True)
class RemoteHangup:
    """The call ends: through the REST API, or (`own`) its own party hung up (a simulated
    device), which Twilio treats as a caller's hang-up (a <Dial> still requests its action)."""

    reason: str = "call completed through the REST API"
    own: bool = False


@dataclass(frozen=True)
class Nudge:
    """Something about the leg changed elsewhere (its conference ended, it was put on hold):
    wake it to look again. Never replaces a pending Redirected or RemoteHangup."""


Interruption = Redirected | Bridged | RemoteHangup | Nudge


class LegInterrupted(Exception):
    def __init__(self, cause: Interruption) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass
class Document:
    root: ET.Element
    url: str | None
    context: str


# Reading a verb's element, shared by the verbs (verbs.py) and the hold loop (queue_wait.py).
def text_of(el: ET.Element) -> str:
    return " ".join("".join(el.itertext()).split())


def int_attr(el: ET.Element, name: str, default: int) -> int:
    try:
        return int(el.get(name, default))
    except ValueError:
        return default


def dial_action(leg: Any, el: ET.Element, doc: Document,
                params: tuple[tuple[str, str], ...]) -> Next:
    """Without an action, <Dial> falls through to the next verb."""
    if not el.get("action"):
        return None
    url = leg.resolve(el.get("action"), doc)
    if url is None:
        return End("application error")
    return Goto(url, el.get("method", "POST"), params, label="dial action")
