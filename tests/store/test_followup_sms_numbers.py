"""Follow-up texts go only to numbers we would call back (toll fraud, issue 12, item 4): a
caller ID is easily spoofed to a premium-rate or foreign number, and the old job texted
whatever the task's caller was."""

from __future__ import annotations

import redis as redis_lib
from rq import Queue, SimpleWorker
from sqlalchemy.orm import Session, sessionmaker

from ivr.config.settings import Config
from ivr.store import tasks
from ivr.store.jobs import FOLLOWUP_QUEUE
from queue_worker.followup import FollowupContext, FollowupHook, install_followup_context
from queue_worker.outcomes import drain_events
from tests.store.test_followup_tasks import RULES, publish

CALLERS = {"+448712345678": "premium-rate", "+18765550100": "JM", "+14155550111": None}


def test_follow_up_texts_skip_premium_and_foreign_callers(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    from devkit.twilio_standin.standin import start_server
    from devkit.twilio_standin.standin_state import StandInConfig
    from ivr.phone.call_control import build_client

    server, standin, api_base = start_server(StandInConfig())
    try:
        client = build_client(Config(twilio_api_base=api_base))
        install_followup_context(redis, FollowupContext(session_factory, client, "+15005550006",
                                                        frozenset({"US", "CA"})))
        rq = Queue(FOLLOWUP_QUEUE, connection=redis)
        for i, caller in enumerate(CALLERS):
            publish(redis, f"CA-abandon-{i}", caller,
                    ("queue_joined", 1, {"queue": "sales"}),
                    ("queue_left", 181, {"queue": "sales", "result": "hangup", "wait": 180.0}),
                    ("call_ended", 181, {}))
        drain_events(redis, session_factory, hooks=[FollowupHook(RULES, rq)])
        SimpleWorker([rq], connection=redis).work(burst=True)
    finally:
        server.shutdown()
    assert [m["to"] for m in standin.messages] == ["+14155550111"]
    with session_factory() as session:
        for caller, why in CALLERS.items():
            (task,) = tasks.list_tasks(session, caller=caller)
            if why is None:
                assert task.sms_status == "sent"
                continue
            assert task.sms_status == "failed"
            assert f"SMS not sent: '{caller}' is " in task.notes
            assert why in task.notes
