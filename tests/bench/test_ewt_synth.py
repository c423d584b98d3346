"""The synthetic trace generator makes protocol-valid traces the estimator can replay."""

from __future__ import annotations

import math
import random

from devkit.bench.ewt import ProtocolSession
from devkit.bench.ewt_synth import Scenario, Talk, _Sim, oracle_wait


def test_generated_trace_replays_with_finite_answers() -> None:
    sc = Scenario("t", 3, 120, 1.0, 1.0, 600, "lognormal", 3.0, patience=200,
                  staffing=((0, 3), (1200, 2)), cycle=3600, seed=5)
    sim = _Sim(sc, reps=5)
    sim.run()
    session = ProtocolSession(sc.aht)
    etas = []
    for d in sim.lines:
        if d["kind"] == "arrival":
            etas.append(session.predict(d["state"])["eta"])
        session.observe({k: v for k, v in d.items() if k != "state"})
    assert len(etas) == len(sim.outcomes) > 50
    assert all(math.isfinite(e) and e >= 0 for e in etas)
    assert any(d["kind"] == "staff" for d in sim.lines)
    assert any(d["kind"] == "abandon" for d in sim.lines)


def test_monte_carlo_oracle_matches_erlang_c() -> None:
    sc = Scenario("mm", 2, 100, 0.9, 1.0, 0)
    rng = random.Random(1)
    est = oracle_wait(sc, Talk("exp", 100, 1.0, rng), 0.0, [5.0, 50.0], 3, 2, [], 4000, rng)
    assert abs(est - 4 * 100 / 2) < 10
