"""The agent floor's REST calls caused by webhooks (docs/agent-floor.md), as RQ jobs on the
routing queue, queued by ivr/store/jobs.py FloorJobs:

- `ring_agent(call, agent, reservation)`: ring the reserved agent's address with a leg that
  runs `/voice/floor/agent` when answered and reports its ring to `/voice/floor/leg`. When
  the ring cannot be placed (Twilio refuses it, or still fails on the last retry) the caller
  would wait in the room for nobody: the reservation is released (they keep their place) and
  they are redirected back in line (`/voice/floor/back`);
- `end_conference(call)`: no agent-side leg is left: end the caller's conference (their
  Dial action then resumes the flow);
- `redirect_caller(call, url)`: a ring nobody took: the caller back in line;
- `drop_leg(leg)`: end one leg (a cold transfer's sender once the target joined).

Retried with backoff (FLOOR_RETRY); each checks the floor state first, so a retry or a late
job does nothing harmful.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast
from urllib.parse import urlencode

from rq import get_current_job
from twilio.base.exceptions import TwilioException, TwilioRestException

from ivr.domain.floor import Leg, conference_name
from ivr.domain.queue_ports import FloorControl
from ivr.domain.queueing import Presence
from ivr.phone.call_control import call_gone
from ivr.store.floor import FloorStore
from ivr.store.jobs import FloorJobs
from queue_worker.context import JobContext, current_context

log = logging.getLogger(__name__)


def _control(ctx: JobContext) -> FloorControl:
    return cast(FloorControl, ctx.control)


def floor_store(ctx: JobContext) -> FloorStore:
    ttl = getattr(ctx.config, "call_state_ttl", 86_400) if ctx.config is not None else 86_400
    return FloorStore(ctx.service.conn, int(ttl))


def ring_agent(call: str, agent_id: str, token: str) -> str:
    ctx = current_context()
    store = floor_store(ctx)
    floor = store.load(call)
    if floor is None or floor.ended or store.field(call, "reservation") != token:
        return "stale"
    agent = ctx.service.agents.get(agent_id)
    params = {"call": call, "role": "agent", "who": agent_id, "reservation": token}
    timeout = ctx.service.config(floor.queue).ring_timeout
    try:
        sid = _control(ctx).ring(agent.address, _url(ctx, "/voice/floor/agent", **params),
                                 timeout, _url(ctx, "/voice/floor/leg", **params))
    except (TwilioException, OSError) as exc:  # OSError: requests' connection errors
        if not _refused(exc) and _retries_left():
            raise  # RQ tries again (FLOOR_RETRY); the caller hears the wait music meanwhile
        _not_placed(ctx, call, agent_id, token, exc)
        return "not-placed"
    store.add_leg(call, Leg(sid, "agent", agent_id))
    log.info("call %s: ringing agent %s on leg %s", call, agent_id, sid)
    return sid


def _refused(exc: Exception) -> bool:
    """Twilio answered the ring with a 4xx (not 429): the request itself is refused (the
    agent's address cannot be dialled, 21211 and friends), so a retry cannot help."""
    status = getattr(exc, "status", None) if isinstance(exc, TwilioRestException) else None
    return status is not None and 400 <= int(status) < 500 and int(status) != 429


def _retries_left() -> bool:
    job = get_current_job()
    return job is not None and bool(job.retries_left)


def _not_placed(ctx: JobContext, call: str, agent_id: str, token: str, exc: Exception) -> None:
    """The agent's ring could not be placed: release the agent and send the caller back in
    line with their place (docs/agent-floor.md, step 3). Not counted as a missed ring: the
    missed-ring count (away after IVR_AWAY_AFTER_MISSED) says the person did not answer, and
    this ring never reached them. Where the agent goes follows whose trouble it was: Twilio
    refusing the request (their address cannot be dialled) leaves them on `break`, as a
    failed bridge does, so routing does not hand them caller after caller that cannot reach
    them; Twilio failing (5xx, timeouts) after the retries makes them `available` again
    (their next ring may well work). The redirect is sent whether or not the reservation
    was still held: its lease may have run out during the retries, and the caller is still
    in the room."""
    permanent = _refused(exc)
    log.warning("call %s: the ring of agent %s could not be placed (%s): caller back in line",
                call, agent_id, exc)
    ctx.service.bridge_failed(call, token, time.time(), agent_presence=(
        Presence.BREAK if permanent else Presence.AVAILABLE))
    leg, url = call, _url(ctx, "/voice/floor/back", call=call)
    if call.startswith("cb:"):  # a callback's customer (their own leg) is let go
        floor = floor_store(ctx).load(call)
        caller = floor.caller if floor is not None else None
        if caller is None:
            return
        leg, url = caller.leg, _url(ctx, "/voice/queue/callback/done", by="agent",
                                    callback=call.removeprefix("cb:"), reservation=token,
                                    agent=agent_id)
    FloorJobs(ctx.rq).redirect_caller(leg, url, f"ring-{token}")


def end_conference(call: str) -> str:
    ctx = current_context()
    store = floor_store(ctx)
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
        if not call_gone(exc):  # 404 or 21220: the caller hung up meanwhile
            raise
        return "gone"
    return "redirected"


def drop_leg(leg: str) -> str:
    ctx = current_context()
    try:
        ctx.control.hang_up(leg)
    except TwilioRestException as exc:
        if not call_gone(exc):  # 404 or 21220: the leg ended by itself meanwhile
            raise
        return "gone"
    return "dropped"


def _url(ctx: JobContext, path: str, **params: Any) -> str:
    return f"{ctx.public_base_url}{path}?{urlencode(params)}"
