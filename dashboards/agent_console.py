"""The agent console: presence, the call ringing or connected to me with why the caller called,
and the disposition after it.

`/agent` (agents; admins and supervisors may open it for an agent with `?agent=ID`) polls
`/agent/context.json` every two seconds: the agent's presence and, while a call is reserved for
or connected to them, the caller's number, what self-service looked up (account holder, order),
the path through the flow, the self-service attempts and how long they waited. The disposition
form posts to `/agent/disposition`, which files a `disposition` outcome event. Beside the
call, the page shows the caller's previous calls and open follow-up tasks (from
`/api/callers/<number>` when installed, else `/api/calls` and `/api/tasks`, read once per call).
`/agent/callbacks.json` lists the callbacks still to be placed in the agent's queues (from the
queue store in Redis), soonest due first. Caller data is put on the page as text, never HTML.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from dashboards.agent_presence import console_state
from dashboards.auth import current_user, require_role, user_engine
from dashboards.call_access import routed_to
from dashboards.softphone import softphone_page
from dashboards.wallboard import thresholds
from ivr.app.services import publish_event, services
from ivr.store import keys
from ivr.store.call_state import CallStateStore
from ivr.store.floor import FloorStore
from ivr.store.scripts import text

bp = Blueprint("agent_console", __name__, template_folder="templates")
DISPOSITIONS = ("resolved", "follow_up", "escalated", "wrong_number", "no_action")


def agent_id() -> str:
    """Agents see themselves; supervisors and admins may look at any agent."""
    user = current_user()
    asked = (request.args.get("agent") or request.form.get("agent") or "").strip()
    if user is None:
        abort(401)
    if user.role == "agent" or not asked:
        return user.username
    return asked[:64]


def call_context(member: str) -> dict[str, Any] | None:
    svc = services()
    stored = CallStateStore(svc.redis).load(member)
    if stored is None:
        return None
    state = stored.state
    joined = text(svc.redis.hget(keys.queue_entry(member), "joined_at"))
    looked_up = {name: value for name, value in state.vars.items()
                 if isinstance(value, dict) and name not in ("caller", "flags", "history")}
    return {
        "call_sid": member, "from": stored.caller.get("From", ""),
        "caller_name": stored.caller.get("CallerName", ""),
        "language": state.language,
        "reason": (state.outcome.get("queue") or {}).get("reason"),
        "looked_up": looked_up,
        "path": [v.node for v in state.path][-12:],
        "self_service": list(state.outcome.get("self_service", [])),
        "waited": _waited(_answered(member) or svc.clock().timestamp(), joined),
    }


def _answered(member: str) -> float | None:
    """When the first agent joined the caller's conference: the wait ends there, not when
    the console asks (it once kept counting through the whole talk)."""
    floor = FloorStore(services().redis).load(member)
    joins = [leg.since for leg in (floor.legs if floor else ()) if leg.role == "agent"
             and leg.status in ("joined", "left") and leg.since]
    return min(joins, default=None)


def _waited(now: float, joined: str | None) -> int | None:
    """Seconds from joining the queue to `now` (or the answer), on the clock that stamped
    `joined_at`: the services' clock, which stamps every flow event (the console once used the wall
    clock, and a test that froze the services' clock a week back showed 11357 min)."""
    return max(0, round(now - int(joined) / 1000)) if joined else None


@bp.get("/agent")
@require_role("agent", "supervisor")
def page() -> str:
    user, agent = current_user(), agent_id()
    assert user is not None  # require_role
    return render_template("agent.html", agent=agent, me=user.username, dispositions=DISPOSITIONS,
                           softphone=softphone_page(user), supervising=agent != user.username,
                           demo_phone=services().config.uses_standin)


@bp.get("/agent/context.json")
@require_role("agent", "supervisor")
def context() -> Response:
    engine = services().queue_engine
    if engine is None:
        return jsonify(error="queue routing is off"), 503  # type: ignore[return-value]
    me = agent_id()
    try:
        detail = engine.agents.detail(me)
    except Exception:  # noqa: BLE001 - NotFound: this user is not an agent in queues.yaml
        return jsonify(error=f"no agent {me!r} in queues.yaml"), 404  # type: ignore[return-value]
    member = detail.get("member", "")
    busy = detail.get("presence") in ("ringing", "on_call", "wrap_up")
    return jsonify(agent=me, presence=detail.get("presence"),
                   call=call_context(member) if member and busy else None,
                   floor=_floor(member, me) if member and busy else None,
                   **console_state(engine, me, detail, time.time()))


def _floor(member: str, agent: str) -> dict[str, Any] | None:
    """The call's conference as the console shows it (docs/agent-floor.md)."""
    svc = services()
    floor = FloorStore(svc.redis).load(member)
    return floor.view(agent, svc.clock().timestamp()) if floor is not None else None


def _my_queues(agent: str) -> list[str]:
    """The queues whose skill `agent` has; every queue for a user who is not an agent."""
    engine = services().queue_engine
    if engine is None:
        return []
    try:
        skills = engine.agents.get(agent).skills
    except Exception:  # noqa: BLE001 - NotFound: a supervisor who is not an agent sees all
        return sorted(engine.queues)
    return sorted(q for q, cfg in engine.queues.items() if skills.get(cfg.skill, 0) > 0)


def _caller_name(call_sid: str) -> str:
    stored = CallStateStore(services().redis).load(call_sid) if call_sid else None
    return stored.caller.get("CallerName", "") if stored is not None else ""


@bp.get("/agent/callbacks.json")
@require_role("agent", "supervisor")
def callbacks() -> Response:
    engine = services().queue_engine
    if engine is None:
        return jsonify(error="queue routing is off"), 503  # type: ignore[return-value]
    now, queues, limits = time.time(), _my_queues(agent_id()), thresholds()
    pending = [c for q in queues for c in engine.callbacks.pending(q, now)]
    for c in pending:
        c["caller_name"] = _caller_name(c["call_sid"])
        overdue_after = limits[c["queue"]].callback_overdue
        c["overdue"] = c["state"] == "waiting" and c["waiting"] > overdue_after
    return jsonify(queues=queues, callbacks=sorted(pending, key=lambda c: c["due"]))


def _may_file(call_sid: str) -> bool:
    """Agents file dispositions only on calls routed to them (dashboards/call_access.py);
    supervisors and admins on any (issue 12: an agent could file on any CallSid)."""
    user = current_user()
    if user is None or user.role != "agent":
        return user is not None
    return routed_to(services(), user_engine(), user.username, call_sid)


@bp.post("/agent/disposition")
@require_role("agent", "supervisor")
def disposition() -> Response:
    call_sid = (request.form.get("call_sid") or "")[:64]
    code = request.form.get("code") or ""
    if not call_sid or code not in DISPOSITIONS:
        return jsonify(error=f"send call_sid and a code among {', '.join(DISPOSITIONS)}"), 400  # type: ignore[return-value]
    if not _may_file(call_sid):
        return jsonify(error=f"call {call_sid} was not put through to you: only its agent or "  # type: ignore[return-value]
                       "a supervisor may file its disposition"), 403
    data = {"agent": agent_id(), "code": code, "notes": (request.form.get("notes") or "")[:2000]}
    now = time.time()
    # a callback's (`cb:<id>`) is filed under the call that asked for it, beside its floor
    # events, so the call record and the caller's history show it
    record = FloorStore(services().redis).record_of(call_sid)
    publish_event(services().redis, "disposition", record, data, now)
    engine = services().queue_engine
    if engine is not None:  # a queue's required disposition ends the agent's wrap-up
        engine.disposition_filed(data["agent"], call_sid, now)
    return jsonify(ok=True, **data)
