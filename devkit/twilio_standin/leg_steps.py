"""What comes next for a call leg, and why another thread interrupted it: the small values
`CallLeg` (leg.py), the verbs (verbs.py) and the hold loop (queue_wait.py) pass each other."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


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
    pass


class LegInterrupted(Exception):
    def __init__(self, cause: Redirected | Bridged | RemoteHangup) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass
class Document:
    root: ET.Element
    url: str | None
    context: str
