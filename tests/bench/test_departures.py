"""Callers of a load phase hang up at moments spread over the phase, not all at its end (the
burst of status callbacks at the end of `ivr bench abuse`'s phases was its p99)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from devkit.loadgen.run import Departures


@dataclass
class Leg:
    status: str = "in-progress"


@dataclass
class StandIn:
    hung_up: list[Leg] = field(default_factory=list)

    def hang_up(self, legs: list[Leg]) -> int:
        for leg in legs:
            leg.status = "completed"
        self.hung_up += legs
        return len(legs)


@dataclass
class Stack:
    standin: StandIn = field(default_factory=StandIn)


def test_callers_leave_over_the_phase_and_none_is_left_at_its_end():
    stack, departures = Stack(), Departures(random.Random(7), end=100.0)
    legs = [Leg() for _ in range(200)]
    for i, leg in enumerate(legs):
        departures.plan(leg, now=i * 0.25)  # placed over the first 50 s
    left_by = []
    for second in range(101):
        departures.hang_up(stack, float(second))
        left_by.append(departures.left)
    assert left_by[-1] == 200
    assert all(leg.status == "completed" for leg in legs)
    # No second of the phase sees more than a few percent of the callers leave.
    assert max(b - a for a, b in zip(left_by, left_by[1:], strict=False)) <= 12
    assert 60 <= left_by[50] <= 140


def test_a_call_that_ended_on_its_own_is_not_hung_up_again():
    stack, departures = Stack(), Departures(random.Random(1), end=10.0)
    done, live = Leg(status="completed"), Leg()
    departures.plan(done, 0.0)
    departures.plan(live, 0.0)
    departures.hang_up(stack, 10.0)
    assert stack.standin.hung_up == [live]
    assert departures.left == 1
