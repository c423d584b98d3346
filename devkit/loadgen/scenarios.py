"""The errands simulated callers run through the demo's flows: used by `ivr demo-traffic`, the
load generator (devkit/loadgen/run.py) and the soak bench, so all three place the same calls.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SHOP, UTILITY = "+14155550100", "+14155550199"
ORDERS = ("10000008", "10079192", "10158384", "10237576", "10316768", "12345674")  # last: unknown
ACCOUNTS = ("55000004", "55001317", "55002620")
POSTCODES = ("94107", "94110", "10001")


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: float
    to: str
    script: str  # str.format fields: order, account, postcode, hold, score, solved


THEN_AGENT = "hold {hold}; press {score}; press {solved}"  # hold, then the survey's answers

SCENARIOS = (
    Scenario("order status", 4, SHOP, "press 1; press 1; press {order}#; press 1"),
    Scenario("balance", 2, SHOP, "press 1; press 2; press {account}#; press 1"),
    Scenario("opening hours", 1, SHOP, "press 1; press 3; press 1"),
    Scenario("order then agent", 2, SHOP,
             "press 1; press 1; press {order}#; press 2; " + THEN_AGENT),
    Scenario("support", 3, SHOP, "press 1; press 0; " + THEN_AGENT),
    Scenario("sales", 2, SHOP, "press 1; press 4; " + THEN_AGENT),
    Scenario("spanish support", 1, SHOP,
             "press 2; press 0; " + THEN_AGENT),
    Scenario("callback", 1.5, SHOP, "press 1; press 0; hold 1; press 1; press 1"),
    Scenario("gives up", 1.5, SHOP, "press 1; press 0; hold {short}; hangup"),
    Scenario("outage", 2, UTILITY, "press 1; press 1; press {postcode}#; press 1"),
    Scenario("billing", 1, UTILITY, "press 1; press 3; " + THEN_AGENT),
)


def fill(scenario: Scenario, rng: random.Random) -> str:
    return scenario.script.format(
        order=rng.choice(ORDERS), account=rng.choice(ACCOUNTS), postcode=rng.choice(POSTCODES),
        hold=rng.randint(6, 30), short=rng.randint(1, 3),
        score=rng.choices("12345", weights=(1, 1, 2, 4, 6))[0],
        solved=rng.choices("12", weights=(5, 1))[0])


def caller_number(rng: random.Random) -> str:
    """Mostly new callers; a few regulars call again (repeat-caller detection has work)."""
    if rng.random() < 0.2:
        return f"+1415555{rng.randint(100, 104):04d}"
    return f"+1415555{rng.randint(1000, 9999):04d}"
