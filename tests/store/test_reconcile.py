"""Call reconciliation (queue_worker/reconcile.py): a call with a start and no end in the
outcome database gets its end from Twilio's REST API once Twilio says it ended; calls that
ended, are too recent, are still live at Twilio or unknown there are left alone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ivr.store import keys
from ivr.store import models as m
from queue_worker.reconcile import TwilioCall, reconcile_calls, twilio_status

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def add_call(session_factory, sid: str, started_ago: float, ended: bool = False) -> None:
    with session_factory() as session, session.begin():
        start = NOW - timedelta(seconds=started_ago)
        session.add(m.CallRow(call_sid=sid, started_at=start,
                           ended_at=start + timedelta(seconds=30) if ended else None))


def test_only_old_unended_calls_that_twilio_says_ended_are_closed(session_factory):
    add_call(session_factory, "CAlost", 900)  # its status callback never arrived
    add_call(session_factory, "CAlost2", 1200)
    add_call(session_factory, "CAdone", 900, ended=True)
    add_call(session_factory, "CArecent", 60)  # may well still be talking
    add_call(session_factory, "CAlive", 900)  # on hold for 15 minutes: still in progress
    add_call(session_factory, "CAunknown", 900)
    add_call(session_factory, "CAflaky", 900)
    add_call(session_factory, "CAancient", 3 * 86_400)  # outside the window
    at_twilio = {"CAlost": TwilioCall("completed", 42.0, NOW - timedelta(seconds=800)),
                 "CAlost2": TwilioCall("no-answer", None, None),
                 "CAdone": TwilioCall("completed", 30.0, None),
                 "CArecent": TwilioCall("completed", 5.0, None),
                 "CAlive": TwilioCall("in-progress", None, None),
                 "CAancient": TwilioCall("completed", 1.0, None)}
    asked: list[str] = []

    def status_of(sid: str) -> TwilioCall | None:
        asked.append(sid)
        if sid == "CAflaky":
            raise ConnectionError("api.twilio.com unreachable")
        return at_twilio.get(sid)

    ended: list[tuple[str, str, float | None, datetime]] = []
    closed = reconcile_calls(session_factory, status_of,
                             lambda *args: ended.append(args), NOW, after=300)
    assert closed == ["CAlost2", "CAlost"]  # oldest first
    assert ended == [("CAlost2", "no-answer", None, NOW),
                     ("CAlost", "completed", 42.0, NOW - timedelta(seconds=800))]
    assert sorted(asked) == ["CAflaky", "CAlive", "CAlost", "CAlost2", "CAunknown"]


def _completed_call(standin):  # type: ignore[no-untyped-def]
    """A call placed on the stand-in that has hung up (its status is `completed`)."""
    leg = standin.start_outbound("+15555550111", "+15555550100", None,
                                 "<Response><Hangup/></Response>")
    deadline = time.monotonic() + 5
    while leg.status != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leg.status == "completed"
    return leg


def test_the_status_comes_from_the_rest_api_of_the_twilio_stand_in():
    from twilio.rest import Client

    from devkit.twilio_standin.standin import start_server
    from devkit.twilio_standin.standin_state import StandInConfig

    server, standin, base = start_server(StandInConfig())
    try:
        leg = _completed_call(standin)
        client = Client("AC" + "0" * 32, "token")
        client.api.base_url = base
        found = twilio_status(client)(leg.call_sid)
        assert found is not None
        assert found.status == "completed"
        assert found.ended_at is not None
        assert twilio_status(client)("CA" + "f" * 32) is None  # Twilio: 404
    finally:
        standin.hang_up()
        server.shutdown()


def test_the_worker_pass_closes_a_call_whose_status_callback_was_lost(redis_url, redis,
                                                                      tmp_path):
    """Wired as `ivr worker` wires it: the outcome database, the queue engine and the stand-in's
    REST API. The call ended at Twilio, the database never heard: the pass publishes its
    `call_ended` (stable id), and a second pass within the minute does nothing."""
    from devkit.twilio_standin.standin import start_server
    from devkit.twilio_standin.standin_state import StandInConfig
    from ivr.config.settings import Config
    from ivr.store import events
    from ivr.store.db import make_engine, make_session_factory, upgrade_database
    from queue_worker.context import build_context, install_context
    from queue_worker.worker import build_reconciler

    server, standin, base = start_server(StandInConfig())
    try:
        leg = _completed_call(standin)
        url = f"sqlite:///{tmp_path / 'outcomes.sqlite3'}"
        upgrade_database(url)
        with make_session_factory(make_engine(url))() as session, session.begin():
            session.add(m.CallRow(call_sid=leg.call_sid,
                               started_at=datetime.now(UTC) - timedelta(minutes=10)))
        config = Config(instance_dir=tmp_path, redis_url=redis_url, database_url=url,
                        twilio_api_base=base)
        install_context(redis, build_context(redis, config))
        reconcile = build_reconciler(redis, config)
        assert reconcile() == [leg.call_sid]
        assert reconcile() == []  # one pass a minute across all workers
        ended = [(sid, f) for sid, f in redis.xrange(keys.events_stream())
                 if f[b"kind"] == b"call_ended"]
        assert len(ended) == 1
        assert ended[0][1][b"call"].decode() == leg.call_sid
        assert ended[0][1][b"id"].decode() == f"call_ended:{leg.call_sid}"
        assert events.decode(*ended[0]).data["status"] == "completed"
    finally:
        standin.hang_up()
        server.shutdown()
