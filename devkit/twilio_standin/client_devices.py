"""Simulated Twilio Client devices (the Voice SDK in an agent's browser), one per identity.

A call to `client:NAME` rings that identity's device. How it is answered depends on the
device's state, set over the simulator API (routes at the bottom):

* registered in `manual` mode: the call rings (up to the call's Timeout, in real time, scaled
  by a RealClock's speed) until a test or a person accepts or rejects it
  (`POST /sim/clients/NAME/calls/CA/accept|reject`); then hang-up, digits and mute go through
  the same API;
* registered in `auto` mode: it answers after a short ring and hangs up after `talk_seconds`
  (the demo's simulated agents);
* unregistered (`DELETE /sim/clients/NAME`): offline, the call rings out: no-answer;
* never registered: the stand-in's `callees` behaviour for `client:NAME` (default answer, like
  an auto device).

A device also places calls (`POST /sim/clients/NAME/dial {"to", "params"}`): the TwiML App's
Voice URL is requested (StandIn.start_from_device) and the call shows in the device's calls.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, current_app, jsonify, request

from devkit.twilio_standin.leg_steps import RemoteHangup
from devkit.twilio_standin.script import ScriptError, ScriptStep, parse_step

MODES = ("manual", "auto")
GATHER_PATIENCE = 5.0  # real seconds a manual device's Gather waits for digits per look


@dataclass
class Ring:
    """One call on a device: ringing until `decision` (accept, reject, canceled), then live."""

    leg: Any
    identity: str
    params: dict[str, str] = field(default_factory=dict)
    decision: str | None = None
    muted: bool = False
    decided: threading.Event = field(default_factory=threading.Event)
    input: threading.Condition = field(default_factory=threading.Condition)

    def decide(self, decision: str) -> bool:
        with self.input:
            if self.decision is not None:
                return False
            self.decision = decision
        self.decided.set()
        return True

    def ask(self, need: str) -> ScriptStep | None:
        """The leg needs the device's input (a Gather): wait for digits, else silence."""
        speed = getattr(self.leg.clock, "speed", 1.0)
        with self.input:
            self.input.wait_for(lambda: len(self.leg.script) > 0, GATHER_PATIENCE / speed)
        return None if len(self.leg.script) else ScriptStep("wait", count=int(GATHER_PATIENCE))

    def send_digits(self, digits: str) -> None:
        """Keys for the leg's next <Gather>; in a conference they are only heard there."""
        step = parse_step(f"press {digits}")
        rooms = self.leg.conferences
        if rooms is not None and rooms.of_leg(self.leg.call_sid) is not None:
            self.leg.note("callee", "press", f"{digits} (DTMF into the conference)")
            return
        with self.input:
            self.leg.script.steps.append(step)
            self.input.notify_all()
        self.leg.note("callee", "digits", f"the device sends DTMF {digits}")

    def describe(self) -> dict[str, Any]:
        leg = self.leg
        return {"sid": leg.call_sid, "from": leg.from_, "to": leg.to, "status": leg.status,
                "direction": leg.direction, "params": self.params, "muted": self.muted,
                "ringing": self.decision is None}


@dataclass
class Device:
    identity: str
    mode: str = "manual"
    registered: bool = True


def split_client(to: str) -> tuple[str, dict[str, str]] | None:
    """`client:alice?x=1` -> ("alice", {"x": "1"}); None for a number."""
    if not to.startswith("client:"):
        return None
    identity, _, query = to[len("client:"):].partition("?")
    return identity, dict(parse_qsl(query))


class Devices:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._devices: dict[str, Device] = {}
        self._rings: dict[str, Ring] = {}

    def register(self, identity: str, mode: str) -> Device:
        with self._lock:
            device = self._devices[identity] = Device(identity, mode)
            return device

    def unregister(self, identity: str) -> None:
        with self._lock:
            self._devices[identity] = Device(identity, "manual", registered=False)

    def device(self, identity: str) -> Device | None:
        with self._lock:
            return self._devices.get(identity)

    def add(self, ring: Ring) -> Ring:
        with self._lock:
            self._rings[ring.leg.call_sid] = ring
        return ring

    def ring_of(self, call_sid: str) -> Ring | None:
        with self._lock:
            return self._rings.get(call_sid)

    def forget(self, call_sids: set[str]) -> None:
        with self._lock:
            for sid in call_sids:
                self._rings.pop(sid, None)

    def calls(self, identity: str) -> list[Ring]:
        """The identity's ringing and live calls (ended ones drop out)."""
        with self._lock:
            rings = [r for r in self._rings.values() if r.identity == identity]
        return [r for r in rings if not r.leg.ended and r.decision not in ("reject",
                                                                          "canceled")]


# -- the simulator API -------------------------------------------------------------------------

clients = Blueprint("sim_clients", __name__, url_prefix="/sim/clients")


def devices() -> Devices:
    return current_app.extensions["standin"].devices


def error(status: int, message: str) -> Any:
    return jsonify({"error": message}), status


@clients.post("/<identity>/register")
def register(identity: str) -> Any:
    mode = (request.get_json(silent=True) or {}).get("mode", "manual")
    if mode not in MODES:
        return error(400, f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    device = devices().register(identity, mode)
    return jsonify({"identity": identity, "mode": device.mode, "registered": True})


@clients.delete("/<identity>")
def unregister(identity: str) -> Any:
    devices().unregister(identity)
    return jsonify({"identity": identity, "registered": False})


@clients.get("/<identity>")
def device_state(identity: str) -> Any:
    device = devices().device(identity)
    return jsonify({"identity": identity, "registered": bool(device and device.registered),
                    "mode": device.mode if device and device.registered else None})


@clients.post("/<identity>/dial")
def dial(identity: str) -> Any:
    """The device places a call through the TwiML App: {"to": "+1555...", "params": {...}}."""
    body = request.get_json(silent=True) or {}
    params = body.get("params") or {}
    if not isinstance(params, dict):
        return error(400, "params must be an object of names to values")
    to = str(body.get("to") or params.get("To") or "")
    leg = current_app.extensions["standin"].start_from_device(identity, to, params)
    return jsonify({"sid": leg.call_sid}), 201


@clients.get("/<identity>/calls")
def calls(identity: str) -> Any:
    return jsonify([ring.describe() for ring in devices().calls(identity)])


@clients.post("/<identity>/calls/<sid>/<action>")
def act(identity: str, sid: str, action: str) -> Any:
    ring = devices().ring_of(sid)
    if ring is None or ring.identity != identity:
        return error(404, f"no call {sid} on client {identity}")
    body = request.get_json(silent=True) or {}
    if action in ("accept", "reject"):
        if not ring.decide(action):
            return error(409, f"call {sid} is not ringing (it was {ring.decision})")
    elif action == "hangup":
        if not ring.decide("reject"):
            ring.leg.interrupt(RemoteHangup("the device hung up", own=True))
    elif action == "digits":
        try:
            ring.send_digits(str(body.get("digits", "")))
        except ScriptError:
            return error(400, "digits: use 0-9, * and #")
    elif action == "mute":
        ring.muted = bool(body.get("muted", True))
        ring.leg.note("callee", "mute", "the device mutes its microphone" if ring.muted
                      else "the device unmutes its microphone")
    else:
        return error(404, f"unknown action {action!r}: accept, reject, hangup, digits, mute")
    return jsonify(ring.describe())
