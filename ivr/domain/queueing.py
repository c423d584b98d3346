"""Skill-queue models: queue settings, agents, presence and the place-in-line score.

Pure data (frozen dataclasses) and arithmetic; no Redis, no clock. Times are epoch seconds
(floats) passed in by the caller. `ivr/config/queues.py` builds these from `queues.yaml`; the
store (`ivr/store/redis_queue.py`) persists them; `ivr/domain/routing.py` decides with them.

Place in line. A caller's place is (priority, virtual start time). The virtual start is the
time that counts for the caller's place: the join time for a new caller, the ORIGINAL start
for a caller put back after an unanswered agent, and the original start for a callback that
keeps the caller's place. Both are packed into one sorted-set score,

    score = (MAX_PRIORITY - priority) * PRIORITY_STRIDE + vstart_ms

so one ZSET per queue orders everybody, ZRANK is the position in O(log n) and ZRANGE 0 K
reads the head without merging several sets. `vstart_ms` < 1e13 (year 2286) and at most
10 priorities keep every score below 2**53, where doubles are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MAX_PRIORITY = 9
PRIORITY_STRIDE = 10**13


class Presence(StrEnum):
    """What an agent is doing. Only `available` agents are offered callers."""

    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    AWAY = "away"  # set by the system (missed rings in a row); the agent or a supervisor ends it
    OFFLINE = "offline"


# States an agent (or a supervisor) may set by hand; the others belong to the routing engine.
SETTABLE_PRESENCE = frozenset({Presence.AVAILABLE, Presence.BREAK, Presence.OFFLINE})


def score(priority: int, vstart: float) -> int:
    """The sorted-set score for a caller; lower is served first. Raises ValueError when the
    priority is outside 0..MAX_PRIORITY or the time is negative."""
    if not 0 <= priority <= MAX_PRIORITY:
        raise ValueError(f"priority {priority} must be between 0 and {MAX_PRIORITY}")
    if vstart < 0:
        raise ValueError(f"virtual start time {vstart} must not be negative")
    return (MAX_PRIORITY - priority) * PRIORITY_STRIDE + int(round(vstart * 1000))


def unpack_score(value: float) -> tuple[int, float]:
    """(priority, vstart seconds) from a score made by `score`."""
    band, ms = divmod(int(value), PRIORITY_STRIDE)
    return MAX_PRIORITY - band, ms / 1000.0


@dataclass(frozen=True)
class RelaxStep:
    """From `after` seconds of waiting on, an agent needs proficiency `min_level` (1..5)."""

    after: float
    min_level: int


DEFAULT_RELAX = (RelaxStep(0, 4), RelaxStep(30, 2), RelaxStep(90, 1))


@dataclass(frozen=True)
class OverflowRule:
    """After `after` seconds in line: move to queue `target`, go to `voicemail`, or `widen`
    to extra `skills` (the caller keeps their place, more agents qualify)."""

    after: float
    action: str  # "queue" | "voicemail" | "widen"
    target: str | None = None
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallbackSettings:
    """Callbacks keep the caller's place; `mode` says who is dialled first."""

    enabled: bool = True
    mode: str = "agent_first"  # or "customer_first"
    retries: int = 2
    retry_delay: float = 300.0
    ring_timeout: int = 25
    # Toll-fraud limits (ivr/domain/phone_numbers.py): the only countries a callback may go
    # to (ISO codes; queues.yaml defaults them to the business's country), and how many
    # callbacks one number may take part in, as the caller or the number called, in 24 hours.
    countries: frozenset[str] = frozenset({"US"})
    max_per_number_per_day: int = 3
    home: str = "US"  # the business's country: how a national number keyed by a caller reads


@dataclass(frozen=True)
class RecordingSettings:
    """Whether a queue records its agent calls (issue 14 item 4, ivr/phone/floor_recording.py):
    `announcement` is what the caller hears first (a catalogue prompt id, else said as
    written; empty: the `call_recording_notice` prompt); `transcribe` sends each recording
    through the voicemail transcription job."""

    mode: str = "off"  # or "on"
    announcement: str = ""
    transcribe: bool = False

    @property
    def on(self) -> bool:
        return self.mode == "on"


@dataclass(frozen=True)
class QueueConfig:
    """One skill queue as configured in `queues.yaml`."""

    name: str
    skill: str
    max_size: int = 1000
    hours: str | None = None
    relax: tuple[RelaxStep, ...] = DEFAULT_RELAX
    overflow: OverflowRule | None = None
    wrap_up_seconds: float = 30.0
    # after-call work ends only once the agent filed a disposition for the call
    disposition_required: bool = False
    ring_timeout: int = 20
    callback: CallbackSettings = field(default_factory=CallbackSettings)
    service_level_target: float = 20.0  # seconds: "answered within" for reports (docs/reports.md)
    recording: RecordingSettings = field(default_factory=RecordingSettings)


@dataclass(frozen=True)
class Agent:
    """An agent as routing sees it: `skills` maps skill to proficiency 1..5, `idle_since` is
    when they last became available (longest idle is offered first)."""

    id: str
    name: str
    address: str  # "+15551230001" or "client:alice"
    skills: dict[str, int]
    presence: Presence = Presence.OFFLINE
    idle_since: float = 0.0
    device: str = ""  # a softphone's device: "registered" or "unregistered" ("" never said)
    device_at: float = 0.0  # when the console last reported or refreshed it

    def level(self, skill: str) -> int:
        return self.skills.get(skill, 0)

    @property
    def softphone(self) -> bool:
        """Rings in the browser (`client:NAME`): reachable only while the device says so."""
        return self.address.startswith("client:")

    def reachable(self, fresh_after: float) -> bool:
        """May be rung now: an agent at a number always; a softphone agent only while their
        device is registered and was refreshed at or after `fresh_after` (now minus
        IVR_DEVICE_STALE_SECONDS). docs/agent-floor.md, Agent state."""
        if not self.softphone:
            return True
        return self.device == "registered" and self.device_at >= fresh_after


@dataclass(frozen=True)
class Waiting:
    """One entry in line as routing sees it. `member` is the sorted-set member (a CallSid, or
    `cb:<id>` for a callback); `skills` is the needed skill plus any widened by overflow."""

    member: str
    skills: tuple[str, ...]
    priority: int
    vstart: float
    joined_at: float
    not_before: float = 0.0

    def waited(self, now: float) -> float:
        return max(0.0, now - self.joined_at)

    @property
    def is_callback(self) -> bool:
        """A callback (`cb:<id>`): the customer is no longer on the line."""
        return self.member.startswith("cb:")
