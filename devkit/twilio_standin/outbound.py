"""An outbound-api call (Calls.json) from creation to answer: initiated, ringing, then
answered (the leg fetches its Url and runs the TwiML) or not (busy, failed, no-answer,
canceled), with the progress status callbacks the call asked for (`call_progress.py`).

Who answers: a client device (`client_devices.py`), else the stand-in's `callees` behaviour
(answer | no-answer | busy | failed, default answer). An answering callee with no
`callee_scripts` entry and every auto device hang up after `talk_seconds` in a conference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from devkit.twilio_standin.call_progress import progress_params, send_progress
from devkit.twilio_standin.client_devices import Devices, Ring, split_client

AUTO_RING_SECONDS = 2.0
DEFAULT_TIMEOUT = 60  # Calls.json Timeout, seconds


@dataclass(frozen=True)
class Answer:
    url: str | None
    method: str
    twiml: str | None
    timeout: float = DEFAULT_TIMEOUT


def plan_for(to: str, devices: Devices, callees: Any) -> str:
    """answer, auto, manual, offline, no-answer, busy or failed."""
    client = split_client(to)
    if client is not None:
        device = devices.device(client[0])
        if device is not None:
            return device.mode if device.registered else "offline"
    return str(callees.get(to, "answer"))


def dial_out(leg: Any, behaviour: str, answer: Answer, devices: Devices,
             talk_seconds: float, scripted: bool) -> None:
    """Play the call's ringing and answer (runs in the leg's thread)."""
    send_progress(leg, "initiated")
    if behaviour in ("busy", "failed"):
        return unanswered(leg, behaviour, f"{leg.to} does not answer ({behaviour})")
    leg.status = "ringing"
    send_progress(leg, "ringing")
    client = split_client(leg.to)
    ring = None
    if client is not None:
        ring = devices.add(Ring(leg, client[0], client[1]))
    leg.note("twilio", "ringing", f"ringing {leg.to}" + (f" (device {behaviour})"
                                                          if behaviour in ("manual", "auto")
                                                          else ""))
    if behaviour == "manual" and ring is not None:
        decision = wait_real(leg, ring, answer.timeout)
    elif behaviour in ("answer", "auto"):
        decision = wait_sim(leg, ring, AUTO_RING_SECONDS) or "accept"
        if not scripted or behaviour == "auto":
            leg.hangup_after = talk_seconds
    else:  # no-answer, offline: rings out
        decision = wait_sim(leg, ring, answer.timeout)
    if decision == "accept":
        if ring is not None:
            ring.decide("accept")
            leg.script.ask = ring.ask if behaviour == "manual" else leg.script.ask
        leg.note("callee", "answer", f"{leg.to} answers")
        leg.status = "in-progress"
        send_progress(leg, "answered")
        leg.run(url=answer.url, method=answer.method, twiml=answer.twiml)
        return None
    status = {"reject": "busy", "canceled": "canceled"}.get(decision or "", "no-answer")
    if ring is not None:
        ring.decide(decision or "canceled")
    return unanswered(leg, status, f"{leg.to}: {status}"
                      + (" (the device rejected the call)" if decision == "reject" else ""))


def wait_real(leg: Any, ring: Ring, seconds: float) -> str | None:
    """A person (or a test) decides in real time: wait for it, at most the Timeout (scaled
    by a RealClock's speed); the leg's clock then moves on by the time that passed."""
    speed = getattr(leg.clock, "speed", 1.0)
    started = time.monotonic()
    if leg.cancelled_ringing:  # canceled before its device started ringing
        ring.decide("canceled")
    ring.decided.wait(seconds / speed)
    if not hasattr(leg.clock, "speed"):
        leg.clock.sleep(time.monotonic() - started)
    return ring.decision


def wait_sim(leg: Any, ring: Ring | None, seconds: float) -> str | None:
    """Ring for `seconds` of the leg's clock; a REST cancel (or a device decision) ends it."""
    step = 1.0
    waited = 0.0
    while waited < seconds:
        if ring is not None and ring.decision is not None:
            return ring.decision
        if leg.cancelled_ringing:
            return "canceled"
        leg.clock.sleep(min(step, seconds - waited), ring.decided if ring else None)
        waited += step
    return ring.decision if ring is not None else None


def unanswered(leg: Any, status: str, text: str) -> None:
    leg.note("callee", status, text)
    leg.status = status
    if leg.status_callback:
        leg.notify(leg.status_callback, leg.status_callback_method,
                   (("CallDuration", "0"), *progress_params(leg, "completed")),
                   "status callback")
