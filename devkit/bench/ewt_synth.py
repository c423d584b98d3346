"""Synthetic EWT traces (format `ewt-trace/1`, shared/ewt/PROTOCOL.md) with their own yardstick.

Guards the hold-time estimator against fitting the three public recordings: it simulates queues
the public traces do not cover (lognormal or near-deterministic talk times, staffing cuts during
the day, demand swinging within the hour, abandonment) and scores, in the header's `reference`
block, an `oracle` (Monte Carlo E[wait | full state, answered] with the TRUE parameters, the
ages of ongoing calls and the staffing plan) and `asterisk_announce`, so `replay.py` prints the
same ratios as for the public traces.

    python -m devkit.bench.ewt_synth OUT_DIR [--quick]

Owns simulation only; standard library; never imported by the product.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

_N = NormalDist()


@dataclass(frozen=True)
class Scenario:
    name: str
    agents: int
    aht: float
    rho: float  # offered load at the base staffing
    hours: float
    warmup: float
    service: str = "exp"  # exp | lognormal | gamma
    scv: float = 1.0
    patience: float | None = None
    rate_amp: float = 0.0
    rate_period: float = 3600.0
    staffing: tuple[tuple[float, int], ...] = ()  # (time in cycle, agents)
    cycle: float = 0.0
    aht_hint: float | None = None
    seed: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rho * self.agents / self.aht


class Talk:
    """Talk-time law with mean `aht` and squared coefficient of variation `scv`."""

    def __init__(self, kind: str, mean: float, scv: float, rng: random.Random) -> None:
        self.kind, self.mean, self.scv, self.rng = kind, mean, scv, rng
        self.sig = math.sqrt(math.log(1 + scv))
        self.mu = math.log(mean) - self.sig ** 2 / 2

    def draw(self) -> float:
        if self.kind == "lognormal":
            return self.rng.lognormvariate(self.mu, self.sig)
        if self.kind == "gamma":
            return self.rng.gammavariate(1 / self.scv, self.mean * self.scv)
        return self.rng.expovariate(1 / self.mean)

    def residual(self, age: float) -> float:
        """Remaining talk time of a call that has lasted `age` seconds."""
        if self.kind == "lognormal":
            lo = _N.cdf((math.log(max(age, 1e-9)) - self.mu) / self.sig)
            u = lo + (1 - lo) * self.rng.random()
            u = min(max(u, 1e-12), 1 - 1e-12)
            return max(math.exp(self.mu + self.sig * _N.inv_cdf(u)) - age, 0.0)
        if self.kind == "gamma":
            for _ in range(200):
                s = self.draw()
                if s > age:
                    return s - age
            return self.mean * 0.05
        return self.rng.expovariate(1 / self.mean)


def staffed_at(sc: Scenario, t: float) -> int:
    if not sc.staffing:
        return sc.agents
    x = t % sc.cycle if sc.cycle else t
    n = sc.staffing[0][1]
    for at, agents in sc.staffing:
        if x >= at:
            n = agents
    return n


def staff_changes(sc: Scenario, until: float) -> list[tuple[float, int]]:
    out, prev, base = [], staffed_at(sc, 0.0), 0.0
    while sc.staffing and base < until:
        for at, agents in sc.staffing:
            t = base + at
            if 0 < t < until and agents != prev:
                out.append((t, agents))
                prev = agents
        base += sc.cycle or until
    return out


def oracle_wait(sc: Scenario, talk: Talk, now: float, ages: list[float], ahead: int,
                agents: int, plan: list[tuple[float, int]], reps: int, rng: random.Random) -> float:
    """Monte Carlo E[wait | state, answered] with the true laws (FCFS: later arrivals never
    matter). Calls in progress finish after their conditional residual; staffing follows plan."""
    theta = 1 / sc.patience if sc.patience else 0.0
    total, hits = 0.0, 0
    future = [(t - now, a) for t, a in plan if t > now][:50]
    for _ in range(reps):
        free = [talk.residual(a) for a in ages]
        heapq.heapify(free)
        quits = sorted(rng.expovariate(theta) for _ in range(ahead)) if theta else []
        own = rng.expovariate(theta) if theta else math.inf
        staffed, busy, left, fi = agents, len(free), ahead, 0
        t, w = 0.0, None
        while w is None:
            nxt_end = free[0] if free else math.inf
            nxt_staff = future[fi][0] if fi < len(future) else math.inf
            t = min(nxt_end, nxt_staff)
            if t == math.inf or t > own:
                break
            if nxt_staff <= nxt_end:
                staffed = future[fi][1]
                fi += 1
            else:
                heapq.heappop(free)
                busy -= 1
            while busy < staffed and w is None:
                while quits and quits[0] < t:  # callers ahead who hung up meanwhile
                    quits.pop(0)
                    left -= 1
                if left > 0:
                    left -= 1
                    if quits:
                        quits.pop(rng.randrange(len(quits)))  # that caller's patience is unused
                    heapq.heappush(free, t + talk.draw())
                    busy += 1
                else:
                    w = t
        if w is not None:
            total += w
            hits += 1
    return total / hits if hits else 0.0


class _Sim:
    """Event-driven FCFS queue that writes the trace lines and the oracle for each arrival."""

    def __init__(self, sc: Scenario, reps: int) -> None:
        self.sc, self.reps = sc, reps
        self.rng = random.Random(sc.seed)
        self.orng = random.Random(sc.seed + 7919)
        self.talk = Talk(sc.service, sc.aht, sc.scv, self.rng)
        self.otalk = Talk(sc.service, sc.aht, sc.scv, self.orng)
        self.horizon = sc.hours * 3600.0
        self.plan = staff_changes(sc, self.horizon * 3)
        self.agents = staffed_at(sc, 0.0)
        self.waiting: OrderedDict[int, float] = OrderedDict()
        self.calls: dict[int, float] = {}
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0
        self.lines: list[dict[str, Any]] = []
        self.outcomes: dict[int, tuple[bool, float]] = {}
        self.oracle: dict[int, float] = {}
        self.waits: list[float] = []
        self.ends: list[float] = []
        self.n_ab = 0

    def push(self, t: float, kind: str, cid: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, kind, cid))

    def next_arrival(self, t: float) -> float:
        sc, peak = self.sc, self.sc.rate * (1 + abs(self.sc.rate_amp))
        while True:
            t += self.rng.expovariate(peak)
            lam = sc.rate * (1 + sc.rate_amp * math.sin(2 * math.pi * t / sc.rate_period))
            if self.rng.random() * peak <= lam:
                return t

    def state(self, t: float, cid: int) -> dict[str, Any]:
        busy = len(self.calls)
        head = next(iter(self.waiting.values()), None)
        return {"t": t, "cid": cid, "queue_len": len(self.waiting),
                "position": len(self.waiting) + 1, "busy": busy, "agents": self.agents,
                "idle": max(self.agents - busy, 0),
                "hol_wait": None if head is None else t - head,
                "les_wait": self.waits[-1] if self.waits else None,
                "les_age": t - self.last_start if self.waits else None,
                "recent_waits": self.waits[-10:],
                "recent_completion_ages": [t - e for e in self.ends[-10:]],
                "n_answered": len(self.waits), "n_abandoned": self.n_ab,
                "n_completed": len(self.ends)}

    def start(self, t: float, cid: int) -> None:
        arrived = self.waiting.pop(cid)
        self.waits.append(t - arrived)
        self.last_start = t
        self.outcomes[cid] = (True, t - arrived)
        self.calls[cid] = t
        self.lines.append({"kind": "start", "t": t, "cid": cid, "wait": t - arrived})
        self.push(t + self.talk.draw(), "end", cid)

    def fill(self, t: float) -> None:
        while self.waiting and len(self.calls) < self.agents:
            self.start(t, next(iter(self.waiting)))

    def arrive(self, t: float, cid: int) -> None:
        st = self.state(t, cid)
        if self.waiting or len(self.calls) >= self.agents:
            ages = [t - s for s in self.calls.values()]
            self.oracle[cid] = oracle_wait(self.sc, self.otalk, t, ages, len(self.waiting),
                                           self.agents, self.plan, self.reps, self.orng)
        else:
            self.oracle[cid] = 0.0
        self.lines.append({"kind": "arrival", "t": t, "cid": cid, "state": st})
        self.waiting[cid] = t
        if self.sc.patience:
            self.push(t + self.rng.expovariate(1 / self.sc.patience), "abandon", cid)
        self.fill(t)

    def handle(self, t: float, kind: str, cid: int) -> None:
        if kind == "arrival":
            self.arrive(t, cid)
            if t < self.horizon:
                nxt = self.next_arrival(t)
                if nxt < self.horizon:
                    self.push(nxt, "arrival", cid + 1)
        elif kind == "abandon" and cid in self.waiting:
            arrived = self.waiting.pop(cid)
            self.n_ab += 1
            self.outcomes[cid] = (False, t - arrived)
            self.lines.append({"kind": "abandon", "t": t, "cid": cid, "wait": t - arrived})
        elif kind == "end":
            handle = t - self.calls.pop(cid)
            self.ends.append(t)
            self.lines.append({"kind": "end", "t": t, "cid": cid, "handle": handle})
            self.fill(t)
        elif kind == "staff":
            self.agents = self.plan[cid][1]
            self.lines.append({"kind": "staff", "t": t, "cid": -1, "agents": self.agents})
            self.fill(t)

    def run(self) -> None:
        self.push(self.next_arrival(0.0), "arrival", 0)
        for i, (t, _) in enumerate(self.plan):
            if t < self.horizon * 1.5:
                self.push(t, "staff", i)
        while self.events:
            t, _, kind, cid = heapq.heappop(self.events)
            if kind == "staff" and not (self.waiting or self.calls) and t > self.horizon:
                continue
            self.handle(t, kind, cid)


def asterisk(lines: list[dict[str, Any]]) -> dict[int, float]:
    """Asterisk app_queue announce-holdtime: (3 h + wait) / 4 in integer seconds, whole minutes."""
    hold, out = 0, {}
    for d in lines:
        if d["kind"] == "start":
            hold = (3 * hold + int(d["wait"])) // 4
        elif d["kind"] == "arrival":
            out[d["cid"]] = 0.0 if hold < 30 else 60.0 * round(hold / 60)
    return out


def write_trace(sc: Scenario, out: Path, reps: int, replay: Any) -> Path:
    sim = _Sim(sc, reps)
    sim.run()
    n = len(sim.outcomes)
    info = {"name": sc.name, "description": sc.name, "aht_hint": sc.aht_hint or sc.aht,
            "warmup": sc.warmup, "horizon": sim.horizon}
    ast = asterisk(sim.lines)
    t_arr = {d["cid"]: d["t"] for d in sim.lines if d["kind"] == "arrival"}
    wait = [sim.outcomes[i][1] for i in range(n)]
    ans = [i for i in range(n) if sim.outcomes[i][0] and t_arr[i] >= sc.warmup]
    ref = {"served": {"asterisk_announce": replay.score([ast[i] for i in range(n)], wait, ans),
                      "oracle": replay.score([sim.oracle[i] for i in range(n)], wait, ans)}}
    header = {"kind": "header", "format": "ewt-trace/1", "info": info,
              "scenario": {"description": repr(sc)}, "counts": {"arrivals": n}, "reference": ref}
    path = out / f"{sc.name}.jsonl"
    with path.open("w") as f:
        for d in [header, *sim.lines]:
            f.write(json.dumps(d) + "\n")
        for i in range(n):
            f.write(json.dumps({"kind": "outcome", "cid": i, "served": sim.outcomes[i][0],
                                "wait": sim.outcomes[i][1]}) + "\n")
    with (out / f"{sc.name}.oracle.json").open("w") as f:  # per caller, for analysis
        json.dump([sim.oracle[i] for i in range(n)], f)
    return path


SCENARIOS = (
    Scenario("logn_s2_scv4", 2, 300, 0.85, 60, 7200, "lognormal", 4.0, seed=11),
    Scenario("logn_s10_scv3_aband", 10, 240, 1.05, 16, 3600, "lognormal", 3.0, patience=400,
             seed=12),
    Scenario("gamma_s5_scv0.2", 5, 200, 0.9, 30, 3600, "gamma", 0.2, seed=13),
    Scenario("staffing_cuts", 12, 300, 0.95, 16, 3600, "exp", 1.0, patience=600,
             staffing=((0, 12), (3600, 8), (7200, 14), (10800, 10)), cycle=14400, seed=14),
    Scenario("swinging_demand", 8, 180, 0.9, 16, 3600, "lognormal", 2.0, patience=300,
             rate_amp=0.5, rate_period=3600, aht_hint=240, seed=15),
    Scenario("single_agent", 1, 240, 0.7, 120, 7200, "exp", 1.0, aht_hint=120, seed=16),
    Scenario("big_logn_overload", 50, 300, 1.15, 6, 3600, "lognormal", 2.0, patience=300,
             seed=17),
    Scenario("small_logn_staffing", 4, 360, 0.9, 48, 7200, "lognormal", 1.5, patience=900,
             staffing=((0, 4), (7200, 3), (14400, 5)), cycle=21600, rate_amp=0.3,
             rate_period=3600, seed=18),
)


def main(argv: list[str]) -> int:
    import importlib.util

    out = Path(argv[0]) if argv else Path("ewt_synth")
    out.mkdir(parents=True, exist_ok=True)
    kit = Path(__file__).resolve().parents[2].parent / "shared" / "ewt" / "replay.py"
    spec = importlib.util.spec_from_file_location("replay", kit)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{kit}: replay.py not found (shared/ must sit beside the repo)")
    replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replay)
    reps = 60 if "--quick" in argv else 300
    names = [a for a in argv[1:] if not a.startswith("--")]
    for sc in SCENARIOS:
        if not names or sc.name in names:
            print(write_trace(sc, out, reps, replay), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
