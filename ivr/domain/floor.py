"""The agent floor's rules (issue 14, docs/agent-floor.md): who is in a caller's conference,
with which role, and which moves are legal now.

A `Floor` is what the app knows of one conference; `plan(floor, actor, action, body, now)`
turns a console click into `Command`s for the REST adapter and the outcome events to file,
or raises `Refused` with the reason the console shows (the API answers 409 with it). Keeping
the rules here, pure, lets them be tested without Twilio and lets the webhooks and the console
agree on them. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

ROLES = ("caller", "agent", "consult", "third", "monitor")
AGENT_SIDE = ("agent", "consult", "third")  # while one of these is on, the conference lives
MODES = ("listen", "whisper", "barge")
TARGETS = ("agent", "queue", "number")
LIVE = ("ringing", "joined")


class Refused(Exception):
    """A move that is not possible now; `str()` says why, in words for the agent."""


@dataclass(frozen=True)
class Leg:
    """One participant: a CallSid in the conference (or ringing to join it)."""

    leg: str
    role: str
    who: str
    status: str = "ringing"  # ringing, joined, left
    held: bool = False
    muted: bool = False
    mode: str | None = None  # monitors: listen, whisper, barge
    since: float = 0.0  # when it joined
    after: str = ""  # cold transfer: the leg to drop when this one joins
    # In the conference room now (its participant-join came, no leave yet). `joined` is
    # set when the leg's answer webhook returns the <Conference>; the leg is in the room
    # only once Twilio has run that TwiML (after the agent's summary), so a move acting on
    # the room waits for this (a hold sent before it answered 409 "not connected yet").
    in_room: bool = False

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def view(self) -> dict[str, Any]:
        return {"leg": self.leg, "role": self.role, "who": self.who, "status": self.status,
                "held": self.held, "muted": self.muted, "mode": self.mode,
                "in_room": self.in_room}


@dataclass(frozen=True)
class Floor:
    call: str  # the caller's CallSid
    queue: str
    conference: str | None = None
    legs: tuple[Leg, ...] = ()
    held_since: float | None = None
    hold_seconds: float = 0.0
    hold_count: int = 0
    recording: str = "off"  # off, on, paused
    ended: bool = False

    @property
    def name(self) -> str:
        return conference_name(self.call)

    def leg(self, sid: str) -> Leg | None:
        return next((p for p in self.legs if p.leg == sid), None)

    def live(self, *roles: str) -> list[Leg]:
        return [p for p in self.legs if p.live and (not roles or p.role in roles)]

    def mine(self, agent: str) -> Leg | None:
        """`agent`'s joined leg on the agent side (agent, then consult, then third)."""
        for role in AGENT_SIDE:
            for p in self.legs:
                if p.role == role and p.who == agent and p.status == "joined":
                    return p
        return None

    @property
    def caller(self) -> Leg | None:
        """The caller's leg: the routed caller's own CallSid, or the customer's leg of a
        callback (a floor named `cb:<id>`, whose legs are all new calls)."""
        return self.leg(self.call) or next((p for p in self.legs if p.role == "caller"), None)

    @property
    def is_callback(self) -> bool:
        return self.call.startswith("cb:")

    @property
    def caller_gone(self) -> bool:
        caller = self.caller
        return self.ended or (caller is not None and caller.status == "left")

    @property
    def held(self) -> bool:
        return self.held_since is not None

    def state(self) -> str:
        """ended, ringing (no agent-side leg answered), connecting (answered, but the caller
        and an answered agent-side leg are not both in the room yet), consult, held, talking.
        The console enables the moves that act on the room only from `talking` on."""
        if self.ended:
            return "ended"
        answered = [p for p in self.live(*AGENT_SIDE) if p.status == "joined"]
        if not answered:
            return "ringing" if self.live(*AGENT_SIDE) else "ended"
        caller = self.caller
        if not (caller is not None and caller.in_room and any(p.in_room for p in answered)):
            return "connecting"
        if self.live("consult"):
            return "consult"
        return "held" if self.held else "talking"

    def view(self, agent: str | None, now: float) -> dict[str, Any]:
        """The console's `floor` (context.json and every control answer)."""
        me = self.mine(agent) if agent else None
        held = self.hold_seconds + (now - self.held_since if self.held_since else 0.0)
        return {"call": self.call, "conference": self.conference, "state": self.state(),
                "held": self.held, "hold_seconds": round(held, 1),
                "muted": bool(me and me.muted), "recording": self.recording,
                "participants": [p.view() for p in self.legs]}


def conference_name(call: str) -> str:
    return f"cf-{call}"


def needs_end(floor: Floor) -> bool:
    """No agent-side participant is left or ringing: the app ends the conference (the caller's
    Dial action then resumes the flow)."""
    return not floor.ended and not floor.live(*AGENT_SIDE)


# Commands for the REST adapter (ivr/phone/floor_control.py carries them out).
@dataclass(frozen=True)
class Hold:
    leg: str
    on: bool


@dataclass(frozen=True)
class Mute:
    leg: str
    on: bool


@dataclass(frozen=True)
class Drop:
    leg: str


@dataclass(frozen=True)
class Ring:
    role: str
    to_type: str  # agent, number, supervisor
    to: str
    after: str = ""  # the leg to drop when this one joins (cold transfer)
    mode: str | None = None


@dataclass(frozen=True)
class SetMode:
    leg: str
    mode: str
    coach: str | None  # the agent leg to coach in whisper mode


@dataclass(frozen=True)
class Requeue:
    queue: str


@dataclass(frozen=True)
class Move:
    commands: list[Any] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    floor: Floor | None = None  # the floor after the move (what the store writes)


ACTIONS = ("hold", "resume", "mute", "unmute", "hangup", "transfer", "consult",
           "consult/complete", "consult/cancel", "add")


def plan(floor: Floor | None, actor: str, action: str, body: Mapping[str, Any],
         now: float) -> Move:
    """The console's `action` by agent `actor` on `floor`. Raises Refused (409) or KeyError
    for an unknown action (404)."""
    if action not in ACTIONS:
        raise KeyError(action)
    if floor is None or floor.ended:
        raise Refused("the call has ended")
    me = floor.mine(actor)
    if me is None:
        raise Refused(f"{actor} is not on this call now")
    caller = next(iter(floor.live("caller")), None)
    if caller is None:
        raise Refused("the caller has hung up")
    if action != "hangup" and floor.state() == "connecting":
        raise Refused("the call is still connecting: wait until you and the caller are both "
                      "in the conference")
    move: Move = _MOVES[action](floor, me, caller, body, now)
    return move


def _hold(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
    if floor.held:
        raise Refused("the caller is already on hold")
    after = _with_leg(replace(floor, held_since=now, hold_count=floor.hold_count + 1),
                      replace(caller, held=True))
    return Move([Hold(caller.leg, True)], [("hold_started", {"agent": me.who})], after)


def _resume(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
    if not floor.held:
        raise Refused("the caller is not on hold")
    if floor.live("consult"):
        raise Refused("complete or cancel the consult first")
    after, events = resumed(floor, me.who, now)
    return Move([Hold(caller.leg, False)], events, after)


def resumed(floor: Floor, agent: str, now: float) -> tuple[Floor, list[tuple[str, dict[str, Any]]]]:
    """The caller off hold: the hold's seconds added up, the `hold_ended` event."""
    if floor.held_since is None:
        return floor, []
    seconds = round(max(0.0, now - floor.held_since), 1)
    after = replace(floor, held_since=None, hold_seconds=floor.hold_seconds + seconds)
    caller = next(iter(floor.live("caller")), None)
    if caller is not None:
        after = _with_leg(after, replace(caller, held=False))
    return after, [("hold_ended", {"agent": agent, "seconds": seconds})]


def _mute(on: bool) -> Any:
    def move(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
        if me.muted == on:
            raise Refused("you are already muted" if on else "you are not muted")
        return Move([Mute(me.leg, on)], [], _with_leg(floor, replace(me, muted=on)))
    return move


def _hangup(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
    return Move([Drop(me.leg)], [], floor)


def _target(body: Mapping[str, Any], allowed: tuple[str, ...]) -> tuple[str, str]:
    to_type, to = str(body.get("to_type") or ""), str(body.get("to") or "").strip()
    if to_type not in allowed:
        raise Refused(f"to_type must be one of {', '.join(allowed)}")
    if not to:
        raise Refused(f"say which {to_type} in `to`")
    return to_type, to


def _no_consult(floor: Floor) -> None:
    if floor.live("consult"):
        raise Refused("complete or cancel the consult first")


def _transfer(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
    _no_consult(floor)
    to_type, to = _target(body, TARGETS)
    if to_type == "agent" and to == me.who:
        raise Refused("the call is already yours")
    if to_type == "queue" and floor.is_callback:
        # the customer's leg of a callback is a call we placed: it has no flow to go on
        # with after a queue, so it is not sent to one (docs/agent-floor.md, callbacks)
        raise Refused("a callback can not be transferred to a queue: transfer it to an "
                      "agent or a number")
    if to_type == "queue":
        event = {"agent": me.who, "to_type": to_type, "to": to, "mode": "cold",
                 "result": "completed"}
        return Move([Requeue(to)], [("transfer", event)], floor)
    role = "agent" if to_type == "agent" else "third"
    event = {"agent": me.who, "to_type": to_type, "to": to, "mode": "cold", "result": "started"}
    return Move([Ring(role, to_type, to, after=me.leg)], [("transfer", event)], floor)


def _consult(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
    _no_consult(floor)
    to_type, to = _target(body, ("agent", "number"))
    if to_type == "agent" and to == me.who:
        raise Refused("you cannot consult yourself")
    commands: list[Any] = []
    events: list[tuple[str, dict[str, Any]]] = []
    after = floor
    if not floor.held:
        held = _hold(floor, me, caller, body, now)
        commands, events, after = list(held.commands), list(held.events), held.floor or floor
    commands.append(Ring("consult", to_type, to))
    events.append(("transfer", {"agent": me.who, "to_type": to_type, "to": to, "mode": "warm",
                                "result": "started"}))
    return Move(commands, events, after)


def _consulting(floor: Floor) -> Leg:
    target = next(iter(floor.live("consult")), None)
    if target is None:
        raise Refused("there is no consult in progress")
    return target


def _consult_complete(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any],
                      now: float) -> Move:
    target = _consulting(floor)
    if target.status != "joined":
        raise Refused(f"{target.who} has not answered yet; wait or cancel the consult")
    if not target.in_room:
        raise Refused(f"{target.who} is still connecting; wait or cancel the consult")
    after, events = resumed(floor, me.who, now)
    after = _with_leg(after, replace(target, role="agent"))
    events.append(("transfer", {"agent": me.who, "to_type": _kind(target), "to": target.who,
                                "mode": "warm", "result": "completed"}))
    return Move([Hold(caller.leg, False), Drop(me.leg)], events, after)


def _consult_cancel(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any],
                    now: float) -> Move:
    target = _consulting(floor)
    after, events = resumed(floor, me.who, now)
    events.append(("transfer", {"agent": me.who, "to_type": _kind(target), "to": target.who,
                                "mode": "warm", "result": "cancelled"}))
    return Move([Drop(target.leg), Hold(caller.leg, False)], events, after)


def _add(floor: Floor, me: Leg, caller: Leg, body: Mapping[str, Any], now: float) -> Move:
    to_type, to = _target(body, ("agent", "number"))
    if any(p.who == to for p in floor.live(*AGENT_SIDE)):
        raise Refused(f"{to} is already on the call")
    return Move([Ring("third", to_type, to)],
                [("party_added", {"agent": me.who, "to_type": to_type, "to": to})], floor)


def _kind(p: Leg) -> str:
    return "number" if p.who.startswith("+") else "agent"


_MOVES = {"hold": _hold, "resume": _resume, "mute": _mute(True), "unmute": _mute(False),
          "hangup": _hangup, "transfer": _transfer, "consult": _consult,
          "consult/complete": _consult_complete, "consult/cancel": _consult_cancel,
          "add": _add}


def monitor(floor: Floor | None, supervisor: str, mode: str) -> Move:
    """A supervisor starts monitoring or changes mode (one monitor leg per supervisor)."""
    if mode not in MODES:
        raise Refused(f"mode must be one of {', '.join(MODES)}")
    if floor is None or floor.ended:
        raise Refused("the call has ended")
    agent = next((p for p in floor.live("agent") if p.status == "joined"), None)
    if agent is None:
        raise Refused("no agent is on this call yet")
    event = ("monitor", {"supervisor": supervisor, "mode": mode, "agent": agent.who})
    mine = next((p for p in floor.live("monitor") if p.who == supervisor), None)
    if mine is None:
        return Move([Ring("monitor", "supervisor", supervisor, mode=mode)], [event], floor)
    if mine.status != "joined":
        raise Refused("your monitor leg is still ringing")
    if not mine.in_room:
        raise Refused("your monitor leg is still connecting")
    if mine.mode == mode:
        raise Refused(f"you are already in {mode} mode")
    coach = agent.leg if mode == "whisper" else None
    return Move([SetMode(mine.leg, mode, coach)], [event],
                _with_leg(floor, replace(mine, mode=mode, muted=mode == "listen")))


def monitor_stop(floor: Floor | None, supervisor: str) -> Move:
    if floor is None or floor.ended:
        raise Refused("the call has ended")
    mine = next((p for p in floor.live("monitor") if p.who == supervisor), None)
    if mine is None:
        raise Refused("you are not monitoring this call")
    agent = next((p.who for p in floor.live("agent")), "")
    return Move([Drop(mine.leg)],
                [("monitor", {"supervisor": supervisor, "mode": "stop", "agent": agent})], floor)


def _with_leg(floor: Floor, leg: Leg) -> Floor:
    legs = tuple(leg if p.leg == leg.leg else p for p in floor.legs)
    return replace(floor, legs=legs)


def queue_place(first_joined: float, current_priority: int, target_priority: int) -> tuple[
        float, int]:
    """Transfer to a queue, the place rule (docs/agent-floor.md): the caller keeps the arrival
    time of their first queue visit in this call and the higher of the two priorities."""
    return first_joined, max(current_priority, target_priority)
