"""The demo's simulated agents' habits on the floor (ivr/commands/demo_floor.py): the rates
come from the settings and the dice follow them (a seeded generator: the same draws every
run), and a rate of 0 means no move at all."""

from __future__ import annotations

import random
from collections import Counter

from ivr.commands.demo_floor import FloorHabits, plan_call
from ivr.config.settings import Config, from_env

DRAWS = 4000


def test_the_habits_are_the_settings():
    habits = FloorHabits.from_config(from_env({
        "IVR_DEMO_HOLD_RATE": "0.5", "IVR_DEMO_HOLD_SECONDS": "10", "IVR_DEMO_TRANSFER_RATE":
        "0.2", "IVR_DEMO_WARM_SHARE": "0.25", "IVR_DEMO_QUEUE_SHARE": "1",
        "IVR_DEMO_FLOOR_THREADS": "3"}))
    assert (habits.hold_rate, habits.hold_seconds, habits.transfer_rate, habits.warm_share,
            habits.queue_share, habits.threads) == (0.5, 10.0, 0.2, 0.25, 1.0, 3)
    assert FloorHabits.from_config(Config()) == FloorHabits()  # the defaults agree


def test_the_dice_follow_the_rates():
    habits = FloorHabits(hold_rate=0.3, hold_seconds=8.0, transfer_rate=0.2, warm_share=0.5,
                         queue_share=0.25)
    rng = random.Random(14)
    plans = [plan_call(habits, rng) for _ in range(DRAWS)]
    holds = [p.hold for p in plans if p.hold is not None]
    kinds = Counter(p.transfer for p in plans if p.transfer)
    assert abs(len(holds) / DRAWS - 0.3) < 0.03
    assert min(holds) >= 4.0
    assert max(holds) <= 12.0  # half to one and a half times the mean
    assert abs(sum(kinds.values()) / DRAWS - 0.2) < 0.025
    assert abs(kinds["warm"] / sum(kinds.values()) - 0.5) < 0.06
    assert abs(kinds["queue"] / (kinds["queue"] + kinds["agent"]) - 0.25) < 0.06
    assert all(2.0 <= p.start <= 5.0 for p in plans)


def test_no_rates_no_moves():
    rng = random.Random(1)
    habits = FloorHabits(hold_rate=0.0, transfer_rate=0.0)
    assert all(plan_call(habits, rng).idle for _ in range(500))
