"""What happened on one simulated call: an ordered list of events, printable and JSON-able.

An `error` event means Twilio would have played "an application error has occurred" (or
logged a Debugger error); our app must never cause one, so `Transcript.ok` is False then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

APPLICATION_ERROR = "an application error has occurred"


@dataclass(frozen=True)
class Event:
    """`at`: simulated seconds since the call started. `who`: twilio (requests and
    machinery), app (what the app's TwiML made the caller hear), caller, callee."""

    at: float
    who: str
    kind: str
    text: str
    url: str | None = None
    status: int | None = None

    def line(self) -> str:
        where = f" {self.url}" if self.url else ""
        status = f" -> {self.status}" if self.status is not None else ""
        return f"[{self.at:7.1f}s] {self.who:>6} {self.kind:<8} {self.text}{where}{status}"


@dataclass
class Transcript:
    call_sid: str
    events: list[Event] = field(default_factory=list)
    listeners: list[Callable[[Event], None]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
        for listener in list(self.listeners):
            listener(event)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Event]:
        return [e for e in self.events if e.kind == "error"]

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def heard(self) -> list[str]:
        """What the caller heard, in order: Say text and Play URLs."""
        return [e.text for e in self.events if e.kind in ("say", "play")]

    def requests(self) -> list[Event]:
        return self.of_kind("request")

    def render(self) -> str:
        return "\n".join(e.line() for e in self.events)

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self.events]
