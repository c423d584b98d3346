"""A Sentinel deployment end to end: the app, the RQ worker and its scheduler reach Redis
through `REDIS_URL=redis+sentinel://...` (ivr/store/redis_connect.py), a planned failover
moves the primary while one caller holds in line and another's callback is booked, and
afterwards the caller reaches an agent, the callback is placed, a new call starts on the new
primary, nobody hears the fallback route and every outcome event is on the new primary.

Real processes throughout: a primary, a replica and a sentinel (tests/sentinel_set.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from ivr.config.metrics import FALLBACKS
from ivr.store import redis_connect
from tests.e2e.conftest import Live
from tests.e2e.test_queue_calls import events, kinds
from tests.sentinel_set import SentinelSet


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    deployment = SentinelSet(tmp_path / "sentinel").start()
    try:
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def redis_url(sentinel_set: SentinelSet) -> str:  # the Live fixture's Redis is the sentinel's
    return sentinel_set.url


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    conn = redis_connect.connect(redis_url)
    yield conn
    conn.close()


def _fallbacks() -> float:
    return sum(s.value for m in FALLBACKS.collect() for s in m.samples
               if s.name.endswith("_total"))


def test_calls_and_callbacks_carry_on_across_a_sentinel_failover(live: Live, sentinel_set):
    fallbacks = _fallbacks()
    first_primary = sentinel_set.primary_port()
    # A failover takes several seconds: the caller must not give up in the meantime (the
    # fixture's 40 loops are about 30 s at its speed).
    live.standin.config.max_hold_loops = 400
    waiting = live.call("hold 400; press 5; press 1", from_="+14155550101")
    live.run_until(lambda: live.queues.position(waiting.call_sid) == 1)
    booker = live.call("hold 1; press 1; press 1", from_="+14155550102")
    live.run_until(lambda: booker.completed)
    assert "Your callback is booked." in " | ".join(booker.transcript.heard())

    assert sentinel_set.failover() != first_primary
    assert live.queues.position(waiting.call_sid) == 1  # still first in line on the new primary

    later = live.call("hold 2; hangup", from_="+14155550103")
    live.run_until(lambda: later.completed)
    live.available("alice")
    live.run_until(lambda: waiting.completed)
    live.available("dan")
    live.run_until(lambda: "callback_done" in kinds(live, booker.call_sid))

    heard = " | ".join(waiting.transcript.heard())
    assert "An agent is about to take your call." in heard
    assert waiting.transcript.ok, waiting.transcript.render()
    assert later.transcript.ok, later.transcript.render()
    assert _fallbacks() == fallbacks  # no webhook fell back to the emergency route
    for leg, expected in ((waiting, {"queue_joined", "agent_answered", "call_ended"}),
                          (booker, {"callback_requested", "callback_done"}),
                          (later, {"call_started", "queue_joined", "queue_left"})):
        assert expected <= set(kinds(live, leg.call_sid)), (leg.call_sid, kinds(live, leg.call_sid))
    done = [d for k, d in events(live, booker.call_sid) if k == "callback_done"]
    assert [d["result"] for d in done] == ["completed"]
