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
    params = urlencode({"callback": cb_id, "reservation": res.token, "agent": res.agent.id})
    if cfg.callback.mode == "customer_first":
        to = ctx.service.callbacks.number(res.member)
        url = f"{ctx.public_base_url}/voice/queue/callback/customer?{params}"
    else:
        to = res.agent.address
        url = f"{ctx.public_base_url}/voice/queue/callback/agent?{params}"
    return ctx.control.place_call(to, url, cfg.callback.ring_timeout)
