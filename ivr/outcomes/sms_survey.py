"""SMS surveys on Redis and RQ: offer one when a call ends, read the customer's reply.

`SmsSurveys.call_ended(call_sid, now)` (from the status callback) asks the pure rule
(`ivr/domain/flow/sms_survey.py`) whether the call gets an SMS and, if so, queues
`queue_worker.sms_survey.send_sms_survey` (job id `sms-survey-<CallSid>`, so a status callback
Twilio retries queues it once). The job sends through Twilio Messaging and stores the pending
question under `ivr:sms-survey:<number>` for `PENDING_TTL`; `reply(...)` (the `POST /sms`
webhook) turns the customer's reply into a `survey_answer` event on that call and returns
the text to answer with. Must not import Flask.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

import redis as redis_lib
from rq import Queue

from ivr.domain.flow.sms_survey import (
    SmsSurvey,
    reply_text,
    sms_answer,
    sms_survey_due,
    sms_survey_nodes,
)
from ivr.outcomes.outgoing_numbers import refusal
from ivr.store import keys
from ivr.store.call_state import CallStateStore
from ivr.store.jobs import MESSAGING_QUEUE, enqueue_sms_survey

log = logging.getLogger(__name__)
PENDING_TTL = 2 * 86_400  # a reply after two days is an ordinary message, not an answer
MAX_REPLY = 500


def pending_key(number: str) -> str:
    return f"{keys.PREFIX}sms-survey:{number}"


class SmsSurveys:
    def __init__(self, redis: redis_lib.Redis, flows: Any, publish: Any,
                 countries: frozenset[str] = frozenset({"US"})) -> None:
        self.redis = redis
        self.flows = flows
        self.publish = publish  # (kind, call_sid, data, at: datetime) -> None
        self.countries = countries  # where texts may go (ivr/outcomes/outgoing_numbers.py)

    def call_ended(self, call_sid: str, now: datetime) -> SmsSurvey | None:
        """Queue the call's SMS survey if it gets one; returns it (None: no SMS)."""
        if not any(sms_survey_nodes(self.flows.flow_by_id(f)) for f in self.flows.flow_ids()):
            return None  # no live flow texts a survey: every status callback skips the read
        stored = CallStateStore(self.redis).load(call_sid)
        if stored is None:
            return None
        number = stored.caller.get("From", "")
        if not (number.startswith("+") and number[1:].isdigit() and len(number) > 8):
            return None  # withheld, anonymous or a SIP address: nobody to text
        refused = refusal(number, self.countries)
        if refused is not None:  # premium, satellite or abroad (toll fraud, issue 12)
            log.info("call %s: no SMS survey: %s (%s)", call_sid, refused, refused.kind)
            return None
        survey = sms_survey_due(self.flows.flow_by_id(stored.state.flow), stored.state)
        if survey is None:
            return None
        enqueue_sms_survey(Queue(MESSAGING_QUEUE, connection=self.redis), call_sid, number,
                           asdict(survey))
        return survey

    def reply(self, number: str, body: str, message_sid: str, now: datetime) -> str:
        """The text to answer an inbound SMS with ("" = no answer: not a survey reply)."""
        raw = self.redis.get(pending_key(number))
        if raw is None:
            return ""
        pending = json.loads(raw)
        answer = sms_answer(pending["kind"], body)
        language = pending.get("language", "en-US")
        if answer is None and not pending.get("asked_again"):
            pending["asked_again"] = True
            self.redis.set(pending_key(number), json.dumps(pending), keepttl=True)
            return reply_text(pending["kind"], language)
        data: dict[str, Any] = {"question": pending["question"],
                                "answer": "" if answer is None else str(answer),
                                "channel": "sms", "message": message_sid[:64],
                                "text": body[:MAX_REPLY]}
        if isinstance(answer, int):
            data["score"] = answer
        self.publish("survey_answer", pending["call"], data, now)
        self.redis.delete(pending_key(number))
        log.info("call %s: SMS survey answer %r from %s", pending["call"], data["answer"],
                 number)
        return reply_text("thanks", language)
