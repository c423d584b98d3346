"""The agent floor's REST calls caused by webhooks (docs/agent-floor.md), as RQ jobs on the
routing queue, queued by ivr/store/jobs.py FloorJobs:

- `ring_agent(call, agent, reservation)`: ring the reserved agent's address with a leg that
  runs `/voice/floor/agent` when answered and reports its ring to `/voice/floor/leg`;
- `end_conference(call)`: no agent-side leg is left: end the caller's conference (their
  Dial action then resumes the flow);
- `redirect_caller(call, url)`: a ring nobody took: the caller back in line;
- `drop_leg(leg)`: end one leg (a cold transfer's sender once the target joined).

Retried with backoff (FLOOR_RETRY); each checks the floor state first, so a retry or a late
job does nothing harmful.
"""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import urlencode

from twilio.base.exceptions import TwilioRestException

from ivr.domain.floor import Leg, conference_name
from ivr.domain.queue_ports import FloorControl
from ivr.store.floor import FloorStore
from queue_worker.context import JobContext, current_context

log = logging.getLogger(__name__)


def _control(ctx: JobContext) -> FloorControl:
    return cast(FloorControl, ctx.control)


def _store(ctx: JobContext) -> FloorStore:
    ttl = getattr(ctx.config, "call_state_ttl", 86_400) if ctx.config is not None else 86_400
    return FloorStore(ctx.service.conn, int(ttl))


def ring_agent(call: str, agent_id: str, token: str) -> str:
    ctx = current_context()
    store = _store(ctx)
    floor = store.load(call)
    if floor is None or floor.ended or store.field(call, "reservation") != token:
        return "stale"
    agent = ctx.service.agents.get(agent_id)
    params = {"call": call, "role": "agent", "who": agent_id, "reservation": token}
    timeout = ctx.service.config(floor.queue).ring_timeout
    sid = _control(ctx).ring(agent.address, _url(ctx, "/voice/floor/agent", **params), timeout,
                             _url(ctx, "/voice/floor/leg", **params))
    store.add_leg(call, Leg(sid, "agent", agent_id))
    log.info("call %s: ringing agent %s on leg %s", call, agent_id, sid)
    return sid


def end_conference(call: str) -> str:
    ctx = current_context()
    store = _store(ctx)
    control = _control(ctx)
    conference = store.field(call, "conference") or control.find_conference(
        conference_name(call))
    if not conference:
        return "none"
    try:
        control.end_conference(conference)
    except TwilioRestException as exc:
        if exc.status != 404:
            raise
        return "gone"
    return conference


def redirect_caller(call: str, url: str) -> str:
    ctx = current_context()
    try:
        ctx.control.redirect(call, url)
    except TwilioRestException as exc:
        if exc.status != 404:  # the caller hung up meanwhile
            raise
        return "gone"
    return "redirected"


def drop_leg(leg: str) -> str:
    ctx = current_context()
    try:
        ctx.control.hang_up(leg)
    except TwilioRestException as exc:
        if exc.status != 404:
            raise
        return "gone"
    return "dropped"


def _url(ctx: JobContext, path: str, **params: Any) -> str:
    return f"{ctx.public_base_url}{path}?{urlencode(params)}"
