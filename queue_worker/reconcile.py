"""Reconciliation: calls the outcome database saw start but never end get their end from Twilio.

A call's end is recorded from its status callback, which Twilio sends once and never retries.
The web layer spools one it cannot put in Redis (ivr/outcomes/spool.py), but a web host that died
with its spool, a callback lost on the network or a bug would still leave a call "in progress"
forever - and a ghost caller in line. So the worker, about once a minute, asks Twilio's REST
API (`GET /Calls/{Sid}.json`) about calls started more than `after` seconds ago that have no
end yet, and for each one Twilio says has ended does what the status callback would have done
(`QueueHandOff.call_ended`: leave the line, publish `call_ended`). The event's id is stable
(`call_ended:<CallSid>`), so a late real callback and the reconciliation record one end.

One worker at a time (a short Redis lock); a pass looks at `limit` calls at most, oldest
first, within the last `window` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ivr.store import models as m

log = logging.getLogger(__name__)

TERMINAL = ("completed", "busy", "failed", "no-answer", "canceled")
LOCK_KEY = "ivr:reconcile:lock"


@dataclass(frozen=True)
class TwilioCall:
    status: str
    duration: float | None
    ended_at: datetime | None


StatusOf = Callable[[str], TwilioCall | None]
EndCall = Callable[[str, str, float | None, datetime], None]


def unended_calls(sessions: Any, started_before: datetime, started_after: datetime,
                  limit: int) -> list[str]:
    """CallSids with a start and no end in the outcome database, oldest first."""
    with sessions() as session:
        rows = session.execute(
            select(m.CallRow.call_sid).where(m.CallRow.ended_at.is_(None),
                                          m.CallRow.started_at < started_before,
                                          m.CallRow.started_at >= started_after)
            .order_by(m.CallRow.started_at).limit(limit)).scalars().all()
    return list(rows)


def reconcile_calls(sessions: Any, status_of: StatusOf, end_call: EndCall, now: datetime, *,
                    after: float = 300.0, window: float = 86_400.0,
                    limit: int = 200) -> list[str]:
    """One pass; returns the CallSids whose end it recorded. A call Twilio still has in
    progress (or does not know) is left alone; a REST error skips that call this time."""
    ended = []
    for sid in unended_calls(sessions, now - timedelta(seconds=after),
                             now - timedelta(seconds=window), limit):
        try:
            found = status_of(sid)
        except Exception as exc:  # noqa: BLE001 - Twilio unreachable: the next pass retries
            log.warning("reconcile: status of call %s unavailable (%s)", sid, exc)
            continue
        if found is None or found.status not in TERMINAL:
            continue
        end_call(sid, found.status, found.duration, found.ended_at or now)
        log.warning("reconcile: call %s had no recorded end; Twilio says %s", sid,
                    found.status)
        ended.append(sid)
    return ended


def twilio_status(client: Any) -> StatusOf:
    """`StatusOf` on a twilio REST Client (real Twilio or the stand-in)."""
    from twilio.base.exceptions import TwilioRestException

    def status_of(sid: str) -> TwilioCall | None:
        try:
            call = client.calls(sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise
        duration = float(call.duration) if call.duration not in (None, "") else None
        ended = call.end_time.astimezone(UTC) if call.end_time else None
        return TwilioCall(str(call.status), duration, ended)

    return status_of


def run_pass(conn: Any, sessions: Any, status_of: StatusOf, end_call: EndCall,
             every: float, **options: Any) -> list[str]:
    """A pass if no other worker ran one in the last `every` seconds (Redis lock)."""
    if not conn.set(LOCK_KEY, "1", nx=True, px=max(int(every * 900), 1)):
        return []
    return reconcile_calls(sessions, status_of, end_call, datetime.now(UTC), **options)
