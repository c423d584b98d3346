"""The contract between the flow interpreter and the outside world.

The interpreter (`interpreter.py`) never builds TwiML and never does I/O. It returns a tuple of
*actions*; the web adapter (`ivr/phone/twiml.py`, `ivr/web/voice.py`) turns them into TwiML and side
effects, and feeds what the caller did back in as a `CallEvent`. Keeping this file small and
stable is what lets the simulator, the web app and the tests share one engine.

Rules every `step` result follows:
- Zero or more "speaking" actions (`Say`, `Pause`) then at most one *terminal* action that
  waits for the outside world: `Gather`, `Enqueue`, `Record`, `Dial`, `Lookup` or `Hangup`.
- After `Gather`/`Record`/`Dial`/`Enqueue`/`Lookup`, the next `step` receives the matching event.
- `Lookup` is an effect the adapter performs in-process (HTTP/SQL/CSV); it answers at once with
  a `lookup_result` event, so a caller never hears it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Speech:
    """One thing to say. `text` is already rendered (templating applied) in `language`.

    `prompt_id` names the catalogue entry so the adapter can play recorded audio when a file
    exists, and fall back to `<Say>` with `text` when it does not.
    """

    text: str
    language: str = "en-US"
    prompt_id: str | None = None


@dataclass(frozen=True)
class Say:
    speech: Speech


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


@dataclass(frozen=True)
class Gather:
    """Collect keys and/or speech; the answer comes back as a `CallEvent(kind="input")`.

    An empty answer (timeout) also comes back as `kind="input"` with no digits and no speech,
    so the interpreter owns retries and the no-input path.
    """

    prompts: tuple[Speech, ...]
    input: Literal["dtmf", "speech", "dtmf speech"] = "dtmf"
    num_digits: int | None = None
    finish_on_key: str = "#"
    timeout: int = 5
    hints: tuple[str, ...] = ()
    language: str = "en-US"


@dataclass(frozen=True)
class Enqueue:
    """Hand the caller to a human skill queue (issue 4's engine takes over from here).

    `node` is the queue node's id so the flow can resume after the caller leaves the queue
    (callback accepted, voicemail chosen, queue full) with a `queue_result` event.
    """

    queue: str
    node: str
    skill: str | None = None
    priority: int = 0
    reason: str | None = None
    offer_callback: bool = True
    offer_voicemail: bool = True


@dataclass(frozen=True)
class Record:
    """Voicemail: record after the beep; `record_result` comes back with the recording URL."""

    max_length: int = 120
    finish_on_key: str = "#"
    timeout: int = 5
    play_beep: bool = True
    mailbox: str = "general"


@dataclass(frozen=True)
class Dial:
    """Transfer to an external number; `dial_result` comes back when the leg ends."""

    number: str
    timeout: int = 30
    caller_id: str | None = None


@dataclass(frozen=True)
class Lookup:
    """Fetch self-service data; the adapter answers with `lookup_result` (data or failure)."""

    source: str
    params: Mapping[str, str]
    timeout: float = 3.0


@dataclass(frozen=True)
class Hangup:
    reason: str = "completed"


Action = Say | Pause | Gather | Enqueue | Record | Dial | Lookup | Hangup

EventKind = Literal[
    "start", "input", "lookup_result", "queue_result", "record_result", "dial_result"
]


@dataclass(frozen=True)
class CallEvent:
    """What happened since the last step, already parsed from Twilio's form by the adapter.

    `now` is the event time with a time zone (the domain never reads the clock).
    `data` carries kind-specific values:
      - start: {} (caller data lives in `caller`)
      - input: {} (use `digits`, `speech`, `confidence`)
      - lookup_result: {"ok": bool, "record": {...} | None, "error": str | None}
      - queue_result: {"result": "bridged" | "hangup" | "leave" | "callback" | "voicemail"
                       | "queue-full" | "closed" | "error", "wait": seconds}
      - record_result: {"url": str | None, "duration": int}
      - dial_result: {"status": "completed" | "busy" | "no-answer" | "failed" | "canceled"}
    """

    kind: EventKind
    now: datetime
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None
    caller: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Visit:
    """One node visited, for the outcome log and the agent's 'why is this person calling'."""

    node: str
    at: str  # ISO-8601 timestamp
    detail: str = ""


@dataclass(frozen=True)
class CallState:
    """Everything the interpreter needs to resume a call. JSON-serialisable via `to_dict`.

    Stored per call in Redis by the adapter; the interpreter returns a new one each step.
    `waiting` is the node id whose answer we expect (None when the call has ended).
    `attempts` counts retries of the waiting node (menus/inputs re-prompt, then fall back).
    `vars` holds flow variables, caller data and lookup results (`vars["order"]["status"]`).
    """

    flow: str
    version: str
    language: str
    waiting: str | None = None
    attempts: int = 0
    vars: Mapping[str, Any] = field(default_factory=dict)
    path: tuple[Visit, ...] = ()
    ended: bool = False
    outcome: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "version": self.version,
            "language": self.language,
            "waiting": self.waiting,
            "attempts": self.attempts,
            "vars": dict(self.vars),
            "path": [[v.node, v.at, v.detail] for v in self.path],
            "ended": self.ended,
            "outcome": dict(self.outcome),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CallState:
        return cls(
            flow=d["flow"],
            version=d["version"],
            language=d["language"],
            waiting=d.get("waiting"),
            attempts=int(d.get("attempts", 0)),
            vars=dict(d.get("vars", {})),
            path=tuple(Visit(n, a, x) for n, a, x in d.get("path", [])),
            ended=bool(d.get("ended", False)),
            outcome=dict(d.get("outcome", {})),
        )
