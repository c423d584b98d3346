"""Ports of the queue engine: what the store and the jobs need from the outside world.

Small Protocols, implemented by adapters (`ivr/phone/call_control.py` on Twilio's REST API,
`queue_worker/routing.py` on RQ). Tests pass recording fakes or real adapters pointed at a
local HTTP server.
"""

from __future__ import annotations

from typing import Any, Protocol


class CallControl(Protocol):
    """Telephony actions on live calls (Twilio REST in production)."""

    def redirect(self, call_sid: str, url: str) -> None:
        """Point a live call at new TwiML (used to bridge a waiting caller to an agent)."""
        ...

    def place_call(self, to: str, url: str, timeout: int,
                   status_callback: str | None = None) -> str:
        """Dial `to`; when answered, fetch TwiML from `url`. Returns the new CallSid."""
        ...

    def hang_up(self, call_sid: str) -> None:
        """End a live call."""
        ...


class RoutingTrigger(Protocol):
    """Asks for a routing pass soon (an RQ job in production; a no-op or a list in tests)."""

    def queue_changed(self, queue: str, reason: str) -> None:
        """Something changed now (joined, agent free, requeued, callback): route soon."""
        ...

    def queue_due(self, queue: str, at: float) -> None:
        """Route again at epoch seconds `at` (a callback's retry or chosen slot)."""
        ...

    def agent_free_at(self, agent_id: str, at: float) -> None:
        """Wrap-up ends at epoch seconds `at`: make the agent available then."""
        ...


class NoTrigger:
    """A RoutingTrigger that does nothing: routing runs when someone calls `route`."""

    def queue_changed(self, queue: str, reason: str) -> None:
        return None

    def queue_due(self, queue: str, at: float) -> None:
        return None

    def agent_free_at(self, agent_id: str, at: float) -> None:
        return None


class FloorControl(CallControl, Protocol):
    """The agent floor's REST calls (docs/agent-floor.md): legs that run our TwiML, and the
    conference and its participants (ivr/phone/call_control.py TwilioCallControl)."""

    def ring(self, to: str, url: str, timeout: int, status_callback: str,
             events: tuple[str, ...] = ("answered", "completed")) -> str:
        ...

    def find_conference(self, name: str) -> str | None:
        ...

    def update_participant(self, conference: str, call_sid: str, **changes: Any) -> None:
        ...

    def remove_participant(self, conference: str, call_sid: str) -> None:
        ...

    def end_conference(self, conference: str) -> None:
        ...
