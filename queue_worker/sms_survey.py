"""The SMS survey job (RQ): text the caller the survey question after the call.

`send_sms_survey(call_sid, to, survey)` sends once per call (a Redis key taken with NX before
sending; released again when Twilio refused, so RQ's retry can try again), through Twilio
Messaging with the product's twilio client (the local stand-in without credentials), from
`IVR_SMS_FROM` (a number, or an MG... Messaging Service SID). It then stores the pending
question for the reply webhook and publishes `sms_survey_sent` on the call.

The client comes from `install_sms_client(conn, client, sender)` (tests, the demo) or is built
from the environment on first use, never at import.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import redis as redis_lib
from rq import get_current_job

from ivr.app.services import publish_event
from ivr.config.settings import from_env
from ivr.outcomes.sms_survey import PENDING_TTL, pending_key
from ivr.phone.call_control import TEST_CALLER_ID, build_client
from ivr.store import keys
from queue_worker.context import connection_key

log = logging.getLogger(__name__)
_CLIENTS: dict[str, tuple[Any, str]] = {}


def install_sms_client(conn: redis_lib.Redis, client: Any, sender: str) -> None:
    _CLIENTS[connection_key(conn)] = (client, sender)


def _client(conn: redis_lib.Redis) -> tuple[Any, str]:
    key = connection_key(conn)
    if key not in _CLIENTS:
        config = from_env()
        sender = config.sms_from or config.caller_id or TEST_CALLER_ID
        _CLIENTS[key] = (build_client(config), sender)
    return _CLIENTS[key]


def send_sms_survey(call_sid: str, to: str, survey: dict[str, Any]) -> str:
    """Run in an RQ worker; returns the MessageSid, or why nothing was sent."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("send_sms_survey runs inside an RQ job (queue_worker/sms_survey.py)")
    conn = job.connection
    once = f"{keys.PREFIX}sms-survey-sent:{call_sid}"
    if not conn.set(once, "sending", nx=True, ex=7 * 86_400):
        return "skipped: already sent"
    client, sender = _client(conn)
    origin = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
    try:
        message = client.messages.create(to=to, body=survey["body"], **origin)
    except Exception:
        conn.delete(once)  # not sent: RQ may retry
        log.warning("call %s: SMS survey to %s not sent", call_sid, to, exc_info=True)
        raise
    conn.set(once, str(message.sid), ex=7 * 86_400)
    pending = {"call": call_sid, "question": survey["question"], "kind": survey["kind"],
               "language": survey["language"], "message": str(message.sid)}
    conn.set(pending_key(to), json.dumps(pending), ex=PENDING_TTL)
    publish_event(conn, "sms_survey_sent", call_sid,
                  {"question": survey["question"], "message": str(message.sid)},
                  datetime.now(UTC))
    log.info("call %s: SMS survey %s sent to %s", call_sid, message.sid, to)
    return str(message.sid)
