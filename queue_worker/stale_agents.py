"""The start-up sweep: agents held by calls that are not live any more are freed.

A reservation, a ring of the floor or a connection ends with a webhook (the ring's status
callback, the conference's end, the caller's status callback). When the processes that
would have handled them die with the calls (`ivr demo` stopped and started again on the same
embedded Redis, whose stand-in forgot every call; a host lost), nothing ends them: the
agents stay `ringing` or `on_call` for ever (a reservation's lease covers only the ring).

`clear_stale_agents()` (an RQ job each worker queues at start, `stale-agents-startup`, once
at a time) asks Twilio's REST API (`GET /Calls/{Sid}.json`) about the call of every agent
who is ringing or on a call. A call Twilio says has ended, or does not know, is ended as its
status callback would have ended it (`QueueHandOff.call_ended`: the caller leaves the line,
a reservation is released, a connected agent starts after-call work), its floor state is
dropped, and an agent still held by it goes back to the presence they had. A live call is
left alone. When Twilio cannot answer (the stand-in still starting, the network), the job
fails and RQ retries it (`STALE_RETRY`): nothing is freed on a guess. Callbacks (members
`cb:...`) are left to their reservation's lease.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rq import Retry

from ivr.app.services import publish_event
from ivr.phone.queue_handoff import QueueHandOff
from ivr.store.call_state import CallStateStore
from ivr.store.floor import FloorStore
from queue_worker.context import current_context
from queue_worker.reconcile import TERMINAL, StatusOf, twilio_status

log = logging.getLogger(__name__)
STALE_RETRY = Retry(max=5, interval=[2, 5, 10, 20, 30])
BUSY = ("ringing", "on_call")


class TwilioUnsure(Exception):
    """Twilio could not say whether some agents' calls are live; the job is retried."""


@dataclass
class Sweep:
    freed: list[str] = field(default_factory=list)  # agents no longer held
    ended: list[str] = field(default_factory=list)  # calls found not live
    unsure: list[str] = field(default_factory=list)  # calls Twilio could not tell about


def sweep(service: Any, handoff: QueueHandOff, floor: FloorStore, status_of: StatusOf,
          now: float) -> Sweep:
    """One pass over the agents who are ringing or on a call (see the module docstring)."""
    out = Sweep()
    for agent in service.agents.all():
        if agent.presence.value not in BUSY:
            continue
        member = service.agents.detail(agent.id).get("member", "")
        if member.startswith("cb:"):
            continue
        if member:
            alive = _alive(status_of, member)
            if alive is None:
                out.unsure.append(member)
                continue
            if alive:
                continue
            _end(service, handoff, floor, member, now)
            out.ended.append(member)
        if service.agents.get(agent.id).presence.value in BUSY:
            service.agents.free_stale(agent.id, member, now)
        log.warning("agent %s was held by call %s, which is not live: freed", agent.id,
                    member or "(none)")
        out.freed.append(agent.id)
    return out


def _alive(status_of: StatusOf, call: str) -> bool | None:
    try:
        found = status_of(call)
    except Exception as exc:  # noqa: BLE001 - Twilio unreachable: unsure, retried
        log.info("stale agents: status of call %s unavailable (%s)", call, exc)
        return None
    return found is not None and found.status not in TERMINAL


def _end(service: Any, handoff: QueueHandOff, floor: FloorStore, call: str,
         now: float) -> None:
    """What the call's status callback would have done, then what is left of it."""
    handoff.call_ended(call, "completed", None, datetime.fromtimestamp(now, UTC))
    service.leave(call, "hangup", now)  # a reservation whose call had ended already
    service.call_ended(call, now)  # a connection the callback did not close
    floor.drop(call)


def clear_stale_agents() -> dict[str, list[str]]:
    ctx = current_context()
    conn = ctx.service.conn
    ttl = int(getattr(ctx.config, "call_state_ttl", 86_400)) if ctx.config else 86_400
    handoff = QueueHandOff(ctx.service, CallStateStore(conn), _publisher(conn))
    done = sweep(ctx.service, handoff, FloorStore(conn, ttl),
                 twilio_status(getattr(ctx.control, "client", None)), time.time())
    if done.unsure:
        raise TwilioUnsure(f"Twilio could not say whether calls {done.unsure} are live")
    return {"freed": done.freed, "ended": done.ended}


def _publisher(conn: Any) -> Callable[[str, str, Mapping[str, Any], datetime], None]:
    return lambda kind, sid, data, at: publish_event(conn, kind, sid, data, at)
