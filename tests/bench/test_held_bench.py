"""`ivr bench held` at a tiny size, with most callers copied (`--through`): the copies are
real holding callers to the app (every hold request answered with TwiML, none an error), so
the 50,000-caller run measures the same work as one filled call by call. Nothing here asserts
a latency (speed is the full run's business)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from devkit.bench.held import command


@pytest.mark.slow
def test_held_bench_with_copied_callers_answers_every_hold_request() -> None:
    # each of the two hold-loop processes spreads its 3 callers over the 30 s loop: they ask
    # at 0, 10 and 20 s, so 21 s is the shortest run in which every caller asks
    result = CliRunner().invoke(command, ["--callers", "6", "--through", "2",
                                          "--duration", "21", "--workers", "1"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.split()[:1] == ["6"])
    callers, _rate, requests, errors, *_ = row.split()
    assert (callers, errors) == ("6", "0"), result.output
    assert int(requests) >= 6  # every caller, copies included, asked at least once


@pytest.mark.slow
def test_held_bench_max_lag_skips_late_requests_and_counts_them() -> None:
    # a lag of a microsecond: every request is already late when its time comes
    result = CliRunner().invoke(command, ["--callers", "4", "--through", "2", "--duration",
                                          "2", "--workers", "1", "--max-lag", "0.000001"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.split()[:1] == ["4"])
    values = row.split()
    # requests (those due within the 2 s), errors and late are one and the same number
    assert values[3] == values[2] == values[-2] != "0", result.output


def test_copied_callers_hold_like_the_ones_that_came_through_the_call_service(
        redis, redis_url, monkeypatch, tmp_path) -> None:
    import os
    from datetime import UTC, datetime

    from devkit.bench.held import fill_queues, roomy_queues
    from ivr.app.services import build_services
    from ivr.config.settings import from_env
    from ivr.store import keys
    from tests.conftest import MARKER

    monkeypatch.setenv("IVR_QUEUES_FILE", str(roomy_queues(tmp_path, "10")))
    monkeypatch.setenv("IVR_PROMPTS_AUDIO_DIR", str(tmp_path / "no-audio"))
    members, _ = fill_queues(redis_url, 6, through=2)
    redis.set(MARKER, str(os.getpid()), ex=3600)  # fill_queues flushed the test's database
    svc = build_services(from_env().with_overrides({"redis_url": redis_url}), redis)
    assert svc.holding is not None
    assert svc.queue_engine is not None
    now = datetime.now(UTC)
    positions = {sid: svc.queue_engine.position(sid) for sid, _ in members}
    assert sorted(positions.values()) == [1, 1, 2, 2, 3, 3]  # three in each queue
    for sid, queue in members:
        twiml = svc.holding.wait(sid, queue, now)
        assert "/voice/queue/key" in twiml, (sid, twiml)  # the keyed hold loop: a known visit
    entry = redis.hget(keys.queue_entry(members[5][0]), "caller")
    assert b"+14150000005" in entry  # the copy carries its own number, not its template's
