"""Which calls an agent may act on: the ones routed to them (issue 12, item 5).

An agent files dispositions only on calls the queue engine put through to them; supervisors
and admins on any. "Routed to" is read where the product records it, newest first:
- the agent's own hash: the call (or callback, `cb:<id>`) reserved for, ringing or connected
  to them now (ivr/store/scripts/reserve.lua), and the call their wrap-up is for;
- the call's hash: the agent the caller was last bridged to (ivr/phone/bridging.py marks `agent`;
  kept for the call-state TTL);
- the outcome database, for as long as it keeps the call: every queue visit answered by the
  agent (`agent_answered` events) and every callback attempt they took part in.
Must not import Flask request globals.
"""

from __future__ import annotations

from sqlalchemy import Engine, exists, or_, select

from ivr.app.services import Services
from ivr.domain.errors import NotFound
from ivr.store import models as m
from ivr.store.call_state import CallStateStore


def routed_to(svc: Services, engine: Engine, agent_id: str, call_sid: str) -> bool:
    """True when `call_sid` was (or is being) put through to `agent_id`."""
    return (call_sid in _current_members(svc, agent_id)
            or CallStateStore(svc.redis).field(call_sid, "agent") == agent_id
            or _recorded(engine, agent_id, call_sid))


def _current_members(svc: Services, agent_id: str) -> set[str]:
    """The call reserved for, ringing or connected to the agent, and the one their wrap-up
    (after-call work, ivr/store/wrap_up.py) is for."""
    if svc.queue_engine is None:
        return set()
    try:
        detail = svc.queue_engine.agents.detail(agent_id)
    except NotFound:
        return set()
    return {c for c in (detail.get("member"), detail.get("wrap_call")) if c}


def _recorded(engine: Engine, agent_id: str, call_sid: str) -> bool:
    visit = exists().where(m.QueueVisitRow.call_sid == call_sid, m.QueueVisitRow.agent == agent_id)
    callback = (exists().where(m.CallbackAttemptRow.callback_pk == m.CallbackRow.id,
                               m.CallbackAttemptRow.agent == agent_id)
                .where(or_(m.CallbackRow.call_sid == call_sid,
                           m.CallbackRow.callback_id == call_sid.removeprefix("cb:"))))
    with engine.connect() as conn:
        return bool(conn.execute(select(or_(visit, callback))).scalar())
