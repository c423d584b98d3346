"""The shared table of estimates gives every place in line exactly the direct estimate."""

from __future__ import annotations

import random
from dataclasses import replace

from ivr.domain import holdtime
from ivr.domain.holdtime import QueueState, estimate_wait_range
from ivr.domain.wait_table import WaitTable

NOW = 1_800_000_000.0


def learned(seed: int) -> holdtime.HoldStats:
    """Statistics after a random history: talk times of several shapes, abandons or none."""
    rng = random.Random(seed)
    stats = holdtime.new_stats(rng.choice([20.0, 180.0, 900.0]))
    for i in range(rng.randrange(0, 400)):
        stats = holdtime.record_call_ended(stats, rng.lognormvariate(4.5, rng.random() * 1.5),
                                           NOW + i)
        if rng.random() < 0.6:
            stats = holdtime.record_answered(stats, rng.expovariate(1 / 60), NOW + i)
        if rng.random() < rng.random() * 0.5:
            stats = holdtime.record_abandoned(stats, rng.expovariate(1 / 90), NOW + i)
    if rng.random() < 0.5:
        stats = holdtime.record_staffing(stats, 3, NOW - rng.choice([10.0, 800.0, 5000.0]))
    return stats


def test_every_place_matches_the_direct_estimate_bit_for_bit():
    rng = random.Random(12)
    checked = 0
    for seed in range(60):
        stats = learned(seed)
        agents = rng.choice([0, 1, 2, 5, 40])
        busy = rng.choice([0, agents // 2, agents, agents + 1, agents + 4])  # + : staffing cut
        table = WaitTable(agents, busy, stats)
        places = [rng.randrange(0, 3000) for _ in range(40)] + list(range(12))
        for k in places:  # out of order: the table grows and answers from what it has
            now = NOW + rng.choice([0.0, 30.0, 950.0])
            direct = estimate_wait_range(QueueState(queue_len=k, agents=agents, busy=busy),
                                         stats, now)
            assert table.estimate(k, now) == direct, (seed, agents, busy, k)
            checked += 1
    assert checked == 60 * 52


def test_a_hopeless_line_takes_the_fallback_branch_in_both():
    """Talk times beyond any patience: the chance of being answered underflows and both give
    the plain queue-length estimate (capped at a week)."""
    stats = replace(holdtime.new_stats(180.0), handle_mean=1e150, abandon_weight=50.0,
                    wait_exposure=5.0)
    table = WaitTable(2, 4, stats)
    for k in (0, 1, 60, 200, 201):
        direct = estimate_wait_range(QueueState(queue_len=k, agents=2, busy=4), stats, NOW)
        assert table.estimate(k, NOW) == direct
    assert table.waits[0] == (0 + 2 + 1) / 1e-12
    assert table.estimate(200, NOW).seconds == holdtime.MAX_WAIT


def test_free_agents_answer_at_once_and_the_table_knows_its_inputs():
    stats = learned(3)
    table = WaitTable(5, 2, stats)
    assert table.estimate(2, NOW) == holdtime.WaitEstimate(0.0, 0.0)
    assert table.estimate(3, NOW).seconds > 0
    assert table.matches(5, 2, stats)
    assert not table.matches(5, 3, stats)
    assert not table.matches(5, 2, holdtime.record_abandoned(stats, 10.0, NOW))
