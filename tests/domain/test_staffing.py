"""Erlang C and Erlang A against independent computations: a published Erlang C example,
exact Erlang C in fractions, a separately solved Markov chain for Erlang A, and a simulation
of the queue itself. The formulas under test are in ivr/domain/staffing.py."""

from __future__ import annotations

import heapq
import json
import math
import random
from fractions import Fraction

import pytest
from click.testing import CliRunner

from ivr.commands.staffing import command as staffing_command
from ivr.domain.staffing import Demand, agents_needed, erlang_c, predict


def test_the_published_erlang_c_example() -> None:
    """100 calls in 30 minutes, 3-minute calls (10 Erlangs), 80 % within 20 s: the worked
    example printed in call-centre planning guides (P(wait) 68.21 %, 44.94 %, 28.53 % for 11,
    12, 13 agents; ASA 122.8 s with 11; 14 agents needed)."""
    demand = Demand(200 / 3600, 180, None, 0.8, 20)
    assert [round(erlang_c(10, n), 4) for n in (11, 12, 13)] == [0.6821, 0.4494, 0.2853]
    assert round(predict(demand, 11).asa, 1) == 122.8
    best = agents_needed(demand)
    assert best.agents == 14
    assert 0.88 < best.service_level < 0.89
    assert predict(demand, 13).service_level < 0.8


def _exact_erlang_c(load: Fraction, n: int) -> Fraction:
    top = load ** n / math.factorial(n) * n / (n - load)
    return top / (sum(load ** k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("load", "agents"), [(Fraction(37, 4), 10), (Fraction(1, 3), 1),
                                              (Fraction(95, 2), 50), (Fraction(199), 210)])
def test_erlang_c_equals_the_exact_formula_in_fractions(load: Fraction, agents: int) -> None:
    assert erlang_c(float(load), agents) == pytest.approx(float(_exact_erlang_c(load, agents)),
                                                          rel=1e-9)


def _chain(lam: float, mu: float, theta: float, n: int, t: float) -> dict[str, float]:
    """Erlang A from the Markov chain, without the Beta-law shortcut: the stationary law by
    walking the balance equations (truncated far out), then per state the tagged caller's
    pure-death chain with killing, by first-step analysis and uniformization."""
    weights = [1.0]
    for k in range(1, 4000):
        weights.append(weights[-1] * lam / (min(k, n) * mu + max(k - n, 0) * theta))
    total = sum(weights)
    pi = [w / total for w in weights]
    queue = sum((k - n) * p for k, p in enumerate(pi) if k > n)
    served, wait, within = 0.0, 0.0, sum(pi[:n])
    p_prev, g_prev = 1.0, 0.0  # P(answered), E[wait; answered] with one fewer ahead
    rates = [n * mu + i * theta for i in range(len(pi) - n)]
    for i, p in enumerate(pi[n:]):
        q = rates[i] + theta
        p_i = rates[i] / q * p_prev
        g_i = rates[i] / q * (p_prev / q + g_prev)
        served += p * p_i
        wait += p * g_i
        p_prev, g_prev = p_i, g_i
    within += sum(p * f for p, f in zip(pi[n:], _answered_by(t, rates[:300], theta),
                                        strict=False))
    return {"service_level": within, "abandon_rate": 1 - (sum(pi[:n]) + served),
            "abandon_by_flow": theta * queue / lam,
            "asa": wait / (sum(pi[:n]) + served)}


def _answered_by(t: float, rates: list[float], theta: float) -> list[float]:
    """P(a caller with i ahead is answered by time t) for every i, by uniformization: step
    m of the discrete chain, weighted by the Poisson law of the number of steps in t."""
    uniform = rates[-1] + theta
    done = [0.0] * len(rates)  # P(answered within m steps) from each state
    total = [0.0] * len(rates)
    mean = uniform * t
    for m in range(int(mean + 12 * math.sqrt(mean + 1) + 30)):
        weight = math.exp(m * math.log(mean) - mean - math.lgamma(m + 1)) if mean else (
            1.0 if m == 0 else 0.0)
        total = [x + weight * d for x, d in zip(total, done, strict=True)]
        done = [(r / uniform) * (done[i - 1] if i else 1.0)
                + (1 - (r + theta) / uniform) * done[i] for i, r in enumerate(rates)]
    return total


@pytest.mark.parametrize(("calls", "aht", "patience", "agents", "within"), [
    (100, 300, 600, 8, 20), (60, 240, 120, 4, 30), (300, 200, 900, 17, 15), (30, 600, 60, 3, 0)])
def test_erlang_a_agrees_with_the_markov_chain(calls: float, aht: float, patience: float,
                                               agents: int, within: float) -> None:
    demand = Demand(calls / 3600, aht, patience, 0.8, within)
    got = predict(demand, agents)
    want = _chain(calls / 3600, 1 / aht, 1 / patience, agents, within)
    assert want["abandon_rate"] == pytest.approx(want["abandon_by_flow"], abs=1e-9)
    assert got.service_level == pytest.approx(want["service_level"], abs=1e-6)
    assert got.abandon_rate == pytest.approx(want["abandon_rate"], abs=1e-9)
    assert got.asa == pytest.approx(want["asa"], rel=1e-6)


def _simulate(lam: float, aht: float, patience: float, n: int, t: float, calls: int,
              seed: int) -> tuple[float, float]:
    """(service level, abandon rate) of a simulated M/M/n+M queue, first come first served."""
    rng = random.Random(seed)
    free_at = [0.0] * n  # a heap of when each agent is next free
    clock, answered_in_time, abandoned = 0.0, 0, 0
    for _ in range(calls):
        clock += rng.expovariate(lam)
        gives_up = clock + rng.expovariate(1 / patience)
        start = max(clock, free_at[0])
        if start > gives_up:
            abandoned += 1  # leaves the line; agents' schedule unchanged (FCFS, no reneging
            continue        # effect on those ahead, exactly as in the model)
        answered_in_time += start - clock <= t
        heapq.heapreplace(free_at, start + rng.expovariate(1 / aht))
    return answered_in_time / calls, abandoned / calls


def test_erlang_a_agrees_with_a_simulated_queue_within_two_points() -> None:
    demand = Demand(100 / 3600, 300, 400, 0.8, 20)
    predicted = predict(demand, 8)
    level, abandon = _simulate(demand.arrival, 300, 400, 8, 20, 120_000, seed=7)
    assert abs(predicted.service_level - level) < 0.02
    assert abs(predicted.abandon_rate - abandon) < 0.02


def test_large_centres_stay_finite_and_the_answer_is_the_fewest_agents() -> None:
    for patience in (600.0, None):
        demand = Demand(20_000 / 3600, 360, patience, 0.8, 20)
        best = agents_needed(demand)
        fewer = predict(demand, best.agents - 1)
        assert fewer.service_level < 0.8 <= best.service_level
        assert 1900 < best.agents <= 2100
        assert all(math.isfinite(v) for v in (best.service_level, best.abandon_rate, best.asa))
    assert predict(Demand(100 / 3600, 300, 1e9), 10).service_level == pytest.approx(
        predict(Demand(100 / 3600, 300), 10).service_level, abs=1e-5)  # A -> C


def test_more_agents_never_lower_the_service_level() -> None:
    demand = Demand(500 / 3600, 240, 300, 0.8, 20)
    levels = [predict(demand, n).service_level for n in range(1, 60)]
    assert levels == sorted(levels)
    abandons = [predict(demand, n).abandon_rate for n in range(1, 60)]
    assert abandons == sorted(abandons, reverse=True)


def test_the_command_prints_the_figures_as_json() -> None:
    result = CliRunner().invoke(staffing_command, ["--calls-per-hour", "120", "--aht", "300",
                                                   "--patience", "600", "--target", "0.8/20",
                                                   "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert {"agents_needed", "service_level", "abandon_rate", "asa"} <= printed.keys()
    want = agents_needed(Demand(120 / 3600, 300, 600, 0.8, 20))
    assert printed["agents_needed"] == want.agents
    assert printed["service_level"] == round(want.service_level, 4)
    table = CliRunner().invoke(staffing_command, ["--calls-per-hour", "200", "--aht", "180",
                                                  "--target", "80%/20"])
    assert "agents needed for 80% within 20 s: 14" in table.output
    bad = CliRunner().invoke(staffing_command, ["--calls-per-hour", "200", "--aht", "180",
                                                "--target", "eighty"])
    assert bad.exit_code == 2
    assert "SHARE/SECONDS" in bad.output
