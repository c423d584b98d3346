"""The per-caller summary: kept in Redis by the writer's record hook (real stream, real writer,
SQLite and PostgreSQL), read at call start by the webhook's call service, and harmless when
Redis does not answer."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session, sessionmaker

from ivr.domain.caller_history import FIRST_TIME
from ivr.store import keys
from ivr.store import models as m
from ivr.store.caller_summary import (
    CallerSummaryHook,
    config_summary_ttl,
    history_variables,
    refresh_caller_summary,
)
from ivr.store.events import publish_event
from queue_worker.outcomes import drain_events

NOW = datetime.now(UTC).replace(microsecond=0)
T = NOW.timestamp()
CALLER = "+14155550142"


def publish_call(conn: redis_lib.Redis, sid: str, at: float, caller: str = CALLER,
                 score: int | None = None) -> None:
    publish_event(conn, "call_started", sid, {"caller": caller, "dialed": "+14155550100",
                                              "flow": "shop"}, at)
    publish_event(conn, "node_visited", sid, {"node": "main_menu"}, at + 1)
    publish_event(conn, "queue_joined", sid, {"queue": "support"}, at + 2)
    publish_event(conn, "agent_answered", sid, {"queue": "support", "agent": "alice"}, at + 12)
    publish_event(conn, "queue_left", sid, {"queue": "support", "result": "bridged",
                                            "wait": 10.0}, at + 12)
    if score is not None:
        publish_event(conn, "survey_answer", sid, {"question": "satisfaction",
                                                   "answer": str(score), "score": score}, at + 90)
    publish_event(conn, "call_ended", sid, {"duration": 100.0}, at + 100)


def test_the_writer_keeps_each_callers_summary(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    hook = CallerSummaryHook(redis, clock=lambda: NOW)
    publish_call(redis, "CA-old", T - 30 * 3600, score=5)    # two days' worth ago: not in 24 h
    publish_call(redis, "CA-morning", T - 3 * 3600, score=2)
    publish_call(redis, "CA-other", T - 3600, caller="+14155550999", score=5)
    assert drain_events(redis, session_factory, hooks=[hook]).failed == 0
    mine = history_variables(redis, "(415) 555-0142", NOW + timedelta(minutes=5))
    assert mine == {"returning": True, "calls_24h": 1,
                    "hours_since_last": round((3 * 3600 + 300) / 3600, 2),
                    "last_outcome": "answered", "last_satisfaction": 2, "last_resolved": None,
                    "open_tasks": 0, "unhappy": True}
    other = history_variables(redis, "+14155550999", NOW)
    assert (other["calls_24h"], other["last_satisfaction"], other["unhappy"]) == (1, 5, False)
    assert history_variables(redis, "+14155550000", NOW) == FIRST_TIME
    assert 0 < redis.ttl(keys.caller_summary(CALLER)) <= 30 * 24 * 3600


def test_a_short_retention_period_shortens_the_summarys_life(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session], tmp_path) -> None:
    """The hash is keyed by the caller's number: with IVR_RETENTION_DAYS=7 it must not stay
    in Redis 30 days after the last call, as it does by default."""
    from ivr.config.settings import from_env
    from queue_worker.record_hooks import record_hooks

    config = from_env({"IVR_RETENTION_DAYS": "7",
                       "IVR_FOLLOWUP_FILE": str(tmp_path / "none.yaml")})
    publish_call(redis, "CA-1", T - 600)
    assert drain_events(redis, session_factory,
                        hooks=record_hooks(config, redis, session_factory)).failed == 0
    assert 6 * 86_400 < redis.ttl(keys.caller_summary(CALLER)) <= 7 * 86_400
    forever = from_env({"IVR_RETENTION_DAYS": "0"})
    assert config_summary_ttl(forever) == config_summary_ttl(from_env({})) == 30 * 86_400


def test_an_open_task_makes_the_caller_unhappy(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    publish_call(redis, "CA-1", T - 600, score=4)
    drain_events(redis, session_factory, hooks=[CallerSummaryHook(redis, clock=lambda: NOW)])
    assert history_variables(redis, CALLER, NOW)["unhappy"] is False
    with session_factory() as session, session.begin():
        session.add(m.FollowupTaskRow(
            call_sid="CA-1", caller=CALLER, rule="low_score", reason="Scored 4 but asked back",
            priority=2, team="support", status="open", due_at=NOW, created_at=NOW,
            updated_at=NOW))
    with session_factory() as session:
        assert refresh_caller_summary(session, redis, CALLER, NOW)
    after = history_variables(redis, CALLER, NOW)
    assert (after["open_tasks"], after["unhappy"]) == (1, True)


def test_events_that_change_nothing_do_not_rewrite_the_summary(
        redis: redis_lib.Redis, session_factory: sessionmaker[Session]) -> None:
    hook = CallerSummaryHook(redis, clock=lambda: NOW)
    publish_call(redis, "CA-1", T - 600)
    drain_events(redis, session_factory, hooks=[hook])
    redis.delete(keys.caller_summary(CALLER))
    publish_event(redis, "node_visited", "CA-1", {"node": "survey"}, T - 505)
    drain_events(redis, session_factory, hooks=[hook])
    assert not redis.exists(keys.caller_summary(CALLER))  # a visit: same record, skipped
    publish_event(redis, "survey_answer", "CA-1", {"question": "satisfaction", "answer": "1",
                                                   "score": 1}, T - 504)
    drain_events(redis, session_factory, hooks=[hook])
    assert history_variables(redis, CALLER, NOW)["last_satisfaction"] == 1


def _dead_redis() -> redis_lib.Redis:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return redis_lib.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5,
                           retry=Retry(NoBackoff(), 0))  # refused at once, no retry backoff


def test_redis_down_means_a_first_time_caller_and_a_skipped_refresh(
        session_factory: sessionmaker[Session]) -> None:
    dead = _dead_redis()
    assert history_variables(dead, CALLER, NOW) == FIRST_TIME
    with session_factory() as session:
        assert refresh_caller_summary(session, dead, CALLER, NOW) is False
    assert history_variables(dead, "anonymous", NOW) == FIRST_TIME
