"""Placing a callback whose turn has come (called from the `bridge_reservation` job), and
ringing agent_first's customer (`ring_customer`, queued by ivr/store/jobs.py FloorJobs).

agent_first: ring the agent at their address; when they answer, the web layer's
`/voice/queue/callback/agent?callback=ID&reservation=T` TwiML puts them in the callback's
conference and queues `ring_customer`, which rings the customer with
`/voice/queue/callback/customer?...&first=agent` (they join the waiting agent).
customer_first: ring the customer; `/voice/queue/callback/customer?...` puts them in the
conference and has the floor's `ring_agent` job ring the agent. Both modes meet on the agent
floor (docs/agent-floor.md, "Callbacks"); ivr/phone/callback_legs.py reports the outcome with
`QueueService.bridge_answered`, `callbacks.unanswered(member, token, now, by=...)` and
`call_ended`.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from ivr.store.reservations import Reservation
from queue_worker.context import JobContext, current_context
from queue_worker.floor import floor_store

log = logging.getLogger(__name__)


def dial_callback(ctx: JobContext, res: Reservation) -> str:
    """Place the first leg of a callback; returns the new CallSid."""
    cfg = ctx.service.config(res.queue)
    cb_id = res.member.removeprefix("cb:")
    params = {"callback": cb_id, "reservation": res.token, "agent": res.agent.id}
    base = f"{ctx.public_base_url}/voice/queue/callback"
    if cfg.callback.mode == "customer_first":
        to, first, by = ctx.service.callbacks.number(res.member), "customer", "customer"
    else:
        to, first, by = res.agent.address, "agent", "agent"
    url = f"{base}/{first}?{urlencode(params)}"
    status = f"{base}/status?{urlencode({**params, 'by': by})}"
    timeout = cfg.callback.ring_timeout
    return ctx.control.place_call(to, url, timeout, status_callback=status)


def ring_customer(member: str, agent_id: str, token: str) -> str:
    """agent_first: the agent answered and waits in the room; ring the customer (their ring
    unanswered comes back to `/voice/queue/callback/status?by=customer`: counted, the agent
    let go). "stale" when the attempt is over (the agent left, a retry of this job)."""
    ctx = current_context()
    store = floor_store(ctx)
    floor = store.load(member)
    if (floor is None or floor.ended or store.field(member, "reservation") != token
            or store.field(member, "customer_ring") or not floor.live("agent")):
        return "stale"
    params = {"callback": member.removeprefix("cb:"), "reservation": token, "agent": agent_id}
    base = f"{ctx.public_base_url}/voice/queue/callback"
    sid = ctx.control.place_call(
        store.field(member, "number"), f"{base}/customer?{urlencode({**params, 'first': 'agent'})}",
        ctx.service.config(floor.queue).callback.ring_timeout,
        status_callback=f"{base}/status?{urlencode({**params, 'by': 'customer'})}")
    store.set(member, customer_ring=sid)
    log.info("callback %s: ringing the customer on leg %s for agent %s", member, sid, agent_id)
    return sid
