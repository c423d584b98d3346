"""Placing a callback whose turn has come (called from the `bridge_reservation` job).

agent_first: ring the agent at their address; when they answer, the web layer's
`/voice/queue/callback/agent?callback=ID&reservation=T` TwiML dials the customer.
customer_first: ring the customer; `/voice/queue/callback/customer?...` then dials the agent.
Either web endpoint reports the outcome with `QueueService.bridge_answered`,
`callbacks.unanswered(member, token, now, by=...)` and `call_ended`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from ivr.store.reservations import Reservation
from queue_worker.context import JobContext


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
