"""Routing jobs (RQ): run when a caller joins, an agent becomes free, or a timer fires.

Jobs, all on the `ivr-routing` queue:
- `route_queue(queue, reason)`: undo expired reservations, apply overflow, reserve agents for
  the head of the line (and of the other lines those agents serve: an agent goes to whoever
  should go first among all their queues, docs/queues.md), enqueue one `bridge_reservation`
  per reservation, and while callers wait schedule itself again in `tick_seconds` (RQ's
  scheduler: `enqueue_in`).
  Job ids `route-<queue>-<reason>`: a pass already queued for the same reason is not queued
  twice. Running twice is harmless: reservations are atomic in Redis.
- `bridge_reservation(token)`: point the caller's live call at
  `PUBLIC_BASE_URL/voice/queue/bridge?agent=ID&reservation=TOKEN` (the web layer answers
  with `<Dial>` to the agent after `QueueService.bridge_target` accepts the token), or place
  a callback. Job id `bridge-<token>`, `Retry(max=3, interval=[1, 5, 15])`; a bridge that
  fails for good lands in RQ's failed job registry and its lease runs out, which puts the
  caller back in line with the same place for the next pass. A caller who hung up between
  the reservation and the redirect (Twilio: 404, or 400 with 21220) is not a failure: the
  job returns "gone" without retrying, and the call's end (the `<Enqueue>` action with
  QueueResult=hangup, `QueueService.leave`) frees the agent, or else the lease's end does.
- `end_wrap_up(agent_id)`: scheduled at the end of wrap-up; makes the agent available.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from rq import Retry
from twilio.base.exceptions import TwilioRestException

from ivr.phone.call_control import call_gone
from ivr.store.jobs import enqueue_once
from queue_worker.callbacks import dial_callback
from queue_worker.context import JobContext, current_context

log = logging.getLogger(__name__)
BRIDGE_RETRY = Retry(max=3, interval=[1, 5, 15])


def route_queue(queue: str, reason: str = "") -> dict[str, Any]:
    ctx = current_context()
    now = time.time()
    expired = ctx.service.expire_leases(now)
    result = ctx.service.route(queue, now)
    for res in result.reservations:
        enqueue_once(ctx.rq, f"bridge-{res.token}", bridge_reservation, res.token,
                     retry=BRIDGE_RETRY)
    for member, action, _target in result.overflowed:
        if action == "voicemail":
            ctx.control.redirect(member, _url(ctx, "/voice/queue/overflow",
                                              queue=queue, action="voicemail"))
    if result.waiting:
        enqueue_once(ctx.rq, f"route-{queue}-timer", route_queue, queue, "timer",
                     at=datetime.now(UTC) + timedelta(seconds=ctx.tick_seconds))
    return {"queue": queue, "reason": reason, "expired": expired, "waiting": result.waiting,
            "reserved": [r.token for r in result.reservations]}


def bridge_reservation(token: str) -> str:
    """Bridge one reservation. Returns "bridged", "dialled", "stale" (nothing to do) or
    "gone" (the caller hung up meanwhile: see the module docstring)."""
    ctx = current_context()
    res = ctx.service.begin_bridge(token, time.time())
    if res is None:
        return "stale"
    if res.kind == "callback":
        dial_callback(ctx, res)
        ctx.service.bridge_sent(token)
        return "dialled"
    url = _url(ctx, "/voice/queue/bridge", agent=res.agent.id, reservation=token)
    log.info("bridging call %s to agent %s", res.member, res.agent.id)
    try:
        ctx.control.redirect(res.member, url)
    except TwilioRestException as exc:
        if not call_gone(exc):
            raise  # Twilio's trouble: retried with backoff (BRIDGE_RETRY)
        log.info("call %s hung up before its bridge to agent %s", res.member, res.agent.id)
        return "gone"
    ctx.service.bridge_sent(token)
    return "bridged"


def route_all(reason: str = "tick") -> list[str]:
    """End the wrap-ups whose time has passed and run a routing pass for every queue.

    Every worker asks for this every few seconds (queue_worker/worker.py) and at start. It
    makes routing independent of RQ's scheduler: after a worker dies with SIGKILL its
    scheduler lock stays taken until it expires, and the timed jobs (wrap-up ends, routing
    timers, callback retries) would wait that long while agents sit in wrap-up."""
    ctx = current_context()
    now = time.time()
    for agent in ctx.service.agents.all():
        if agent.presence.value == "wrap_up":
            ctx.service.end_wrap_up(agent.id, now)  # no-op until the wrap-up time has passed
    names = sorted(ctx.service.queues)
    for queue in names:
        enqueue_once(ctx.rq, f"route-{queue}-{reason}", route_queue, queue, reason)
    return names


def end_wrap_up(agent_id: str) -> bool:
    return current_context().service.end_wrap_up(agent_id, time.time())


def _url(ctx: JobContext, path: str, **params: str) -> str:
    return f"{ctx.public_base_url}{path}?{urlencode(params)}"
