"""Carrying out a console move on the agent floor (docs/agent-floor.md, "The console's
control API"): the rules decide (ivr/domain/floor.py `plan`, `monitor`), this checks what
only the outside world knows (the agent exists, a dialled number passes the toll-fraud
policy of callbacks), makes the REST calls inline (the agent is waiting for the answer; the
client's timeout is IVR_FLOOR_REST_TIMEOUT), then writes the floor state and files the
outcome events. Twilio refusing raises `FloorFailed` (the API answers 502). Must not import
Flask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twilio.base.exceptions import TwilioException

from ivr.domain.errors import NotFound
from ivr.domain.floor import (
    Drop,
    Floor,
    Hold,
    Leg,
    Move,
    Mute,
    Refused,
    Requeue,
    Ring,
    SetMode,
    monitor,
    monitor_stop,
    plan,
)
from ivr.domain.phone_numbers import BadNumber, validate_callback_number
from ivr.domain.queue_ports import FloorControl
from ivr.phone.call_control import TwilioCallControl, build_client, call_gone
from ivr.phone.floor_legs import FloorLegs

log = logging.getLogger(__name__)


class FloorFailed(Exception):
    """Twilio refused or could not be reached; `str()` says what failed."""


@dataclass
class FloorMoves:
    legs: FloorLegs
    control: FloorControl

    @classmethod
    def for_console(cls, legs: FloorLegs, config: Any) -> FloorMoves:
        """The console's moves: a REST client that waits IVR_FLOOR_REST_TIMEOUT (an agent is
        waiting for the answer). The control API and `ivr demo`'s simulated agents both use
        it, so the demo's holds and transfers take exactly the console's path."""
        control = TwilioCallControl.from_config(config)
        control.client = build_client(config, timeout=config.floor_rest_timeout)
        return cls(legs, control)

    def act(self, call: str, actor: str, action: str, body: dict[str, Any],
            now: datetime) -> dict[str, Any]:
        floor = self.legs.floor.load(call)
        return self._run(floor, actor, plan(floor, actor, action, body, now.timestamp()), now)

    def monitor(self, call: str, supervisor: str, mode: str, now: datetime) -> dict[str, Any]:
        floor = self.legs.floor.load(call)
        return self._run(floor, None, monitor(floor, supervisor, mode), now)

    def monitor_stop(self, call: str, supervisor: str, now: datetime) -> dict[str, Any]:
        floor = self.legs.floor.load(call)
        return self._run(floor, None, monitor_stop(floor, supervisor), now)

    def current_agent(self, call: str) -> str | None:
        floor = self.legs.floor.load(call)
        joined = [p for p in floor.live("agent") if p.status == "joined"] if floor else []
        return joined[0].who if joined else None

    def _run(self, floor: Floor | None, actor: str | None, move: Move,
             now: datetime) -> dict[str, Any]:
        """Carry out `move`, planned from `floor`. The floor is written after the REST calls
        as a change to what is stored then (`save_move`): the webhooks those calls cause
        (the agent's own leg leaving on consult/complete or hangup) may have come first."""
        assert floor is not None  # plan refused a missing floor
        call = floor.call
        for command in move.commands:
            self._check(floor, command)
        held = self._hold_targets(floor, move.commands, now)
        done: list[Any] = []
        try:
            for command in move.commands:
                self._do(floor, command)
                done.append(command)
        except (TwilioException, OSError) as exc:  # OSError: requests' connection errors
            log.warning("call %s: floor move failed at Twilio: %s", call, exc)
            self._release(floor, held, now)
            self._undo_holds(floor, done)
            raise FloorFailed(f"Twilio did not make the change: {exc}") from exc
        if move.floor is not None:
            self.legs.floor.save_move(floor, move.floor)
        for kind, data in move.events:
            self.legs.publish(kind, call, data, now)
        after = self.legs.floor.load(call) or floor
        return after.view(actor, now.timestamp())

    def _check(self, floor: Floor, command: Any) -> None:
        """What the rules cannot know: the target exists and may be dialled."""
        if isinstance(command, Ring) and command.to_type == "agent":
            try:
                target = self.legs.service.agents.get(command.to)
            except NotFound:
                raise Refused(f"there is no agent {command.to!r}") from None
            if target.presence.value in ("ringing", "on_call"):
                raise Refused(f"{command.to} is on another call")  # as _hold_targets says
        elif isinstance(command, Ring) and command.to_type == "number":
            try:
                validate_callback_number(command.to, self._countries(floor))
            except BadNumber as exc:
                raise Refused(f"{command.to} may not be dialled: {exc}") from None
        elif isinstance(command, Requeue) and command.queue not in self.legs.service.queues:
            raise Refused(f"there is no queue {command.queue!r}")
        elif isinstance(command, (Hold, Mute, SetMode)) and not self._conference(floor):
            raise Refused("the call is not connected yet")

    def _hold_targets(self, floor: Floor, commands: list[Any], now: datetime) -> list[str]:
        """Hold each agent the move rings (`ringing` for this caller: AgentStore.floor_ringing)
        before their phone rings, so routing does not offer them another caller at the same
        moment; the check and the hold are one step in Redis, so of two moves (or a move and
        a routing pass) only one gets them. The leg's end (answered: on_call; unanswered:
        ivr/phone/floor_legs.py gives their presence back) or a failed REST call releases
        it. Returns the agents held."""
        held: list[str] = []
        for command in commands:
            if isinstance(command, Ring) and command.to_type == "agent":
                if not self.legs.service.agents.floor_ringing(command.to, floor.call,
                                                              now.timestamp()):
                    self._release(floor, held, now)
                    raise Refused(f"{command.to} is on another call")
                held.append(command.to)
        return held

    def _undo_holds(self, floor: Floor, done: list[Any]) -> None:
        """A move that failed half way is not saved (the floor says what it said before),
        so a hold it already put on the caller is taken off again: a consult whose ring
        Twilio refused left the caller hearing hold music for good, with a console saying
        they were not on hold (and refusing `resume`). Best effort: a failure is logged."""
        for command in done:
            if isinstance(command, Hold) and command.on:
                try:
                    self.control.update_participant(self._conference(floor) or "",
                                                    command.leg, hold=False)
                except (TwilioException, OSError) as exc:
                    log.warning("call %s: hold of %s not undone: %s", floor.call,
                                command.leg, exc)

    def _release(self, floor: Floor, held: list[str], now: datetime) -> None:
        for agent in held:
            self.legs.service.agents.floor_left(agent, floor.call, now.timestamp())

    def _countries(self, floor: Floor) -> frozenset[str]:
        countries: frozenset[str] = self.legs.service.config(floor.queue).callback.countries
        return countries

    def _conference(self, floor: Floor) -> str | None:
        if floor.conference:
            return floor.conference
        found = self.control.find_conference(floor.name)
        if found:
            self.legs.floor.set(floor.call, conference=found)
        return found

    def _do(self, floor: Floor, command: Any) -> None:
        urls = self.legs.bridging.prompter.urls
        if isinstance(command, Hold):
            conference = self._conference(floor) or ""
            if command.on:
                self.control.update_participant(
                    conference, command.leg, hold=True, hold_method="POST",
                    hold_url=urls.make("/voice/floor/hold", call=floor.call))
            else:
                self.control.update_participant(conference, command.leg, hold=False)
        elif isinstance(command, Mute):
            self.control.update_participant(self._conference(floor) or "", command.leg,
                                            muted=command.on)
        elif isinstance(command, SetMode):
            changes: dict[str, Any] = {"muted": command.mode == "listen",
                                       "coaching": command.mode == "whisper"}
            if command.mode == "whisper" and command.coach:
                changes["call_sid_to_coach"] = command.coach
            self.control.update_participant(self._conference(floor) or "", command.leg,
                                            **changes)
        elif isinstance(command, Drop):
            self._drop(floor, command.leg)
        elif isinstance(command, Ring):
            self._ring(floor, command)
        elif isinstance(command, Requeue):
            self.control.redirect(floor.call, urls.make("/voice/floor/requeue", call=floor.call,
                                                        queue=command.queue))

    def _drop(self, floor: Floor, leg: str) -> None:
        """End one leg. A leg that ended by itself meanwhile (the agent hung up their phone
        as they clicked, a consulted colleague rejected) is what the move wanted: Twilio's
        404 or 400 21220 is success, not a failure to show the agent."""
        try:
            self.control.hang_up(leg)
        except TwilioException as exc:
            if not call_gone(exc):
                raise
            log.info("call %s: leg %s had ended already", floor.call, leg)

    def _ring(self, floor: Floor, ring: Ring) -> None:
        urls = self.legs.bridging.prompter.urls
        if ring.to_type == "agent":
            address = self.legs.service.agents.get(ring.to).address
        elif ring.to_type == "supervisor":
            address = f"client:{ring.to}"
        else:
            address = ring.to
        params = {"call": floor.call, "role": ring.role, "who": ring.to, "mode": ring.mode}
        timeout = self.legs.service.config(floor.queue).ring_timeout
        sid = self.control.ring(address, urls.make("/voice/floor/agent", **params), timeout,
                                urls.make("/voice/floor/leg", **params))
        self.legs.floor.add_leg(floor.call, Leg(sid, ring.role, ring.to, after=ring.after,
                                                mode=ring.mode))
