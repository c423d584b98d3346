"""One load run: callers arrive at `rate` per second (Poisson), at most `concurrency` on the
line at once, each with an errand from the demo's mix (self-service, queues with hold loops
and a survey, callbacks, hang-ups while holding); then the run drains and is scored.

A call is lost when it did not end (still on the line after the drain), when Twilio would
have played "an application error has occurred" (a transcript error: bad status, bad TwiML),
or when it ended without its `call_ended` outcome event in Redis.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from devkit.loadgen.scenarios import SCENARIOS, caller_number, fill
from devkit.loadgen.stack import Stack
from ivr.config.settings import from_env
from ivr.store.db import database_url

TERMINAL = {"completed", "busy", "no-answer", "failed", "canceled"}


@dataclass
class LoadResult:
    placed: int = 0
    completed: int = 0
    unfinished: list[str] = field(default_factory=list)
    with_errors: list[str] = field(default_factory=list)
    without_outcome: list[str] = field(default_factory=list)
    seconds: float = 0.0
    hung_up: int = 0  # still holding when the drain ended: hung up, must still be recorded
    left: int = 0  # hung up during the phase at their planned moment (Departures)
    peak_on_line: int = 0  # callers on the line at once, at most and on average over the phase
    mean_on_line: float = 0.0

    @property
    def lost(self) -> int:
        return len(set(self.unfinished) | set(self.with_errors) | set(self.without_outcome))


@dataclass
class Departures:
    """When callers hang up on their own. Each caller gets a moment drawn uniformly between
    their arrival and the end of the phase, and hangs up then if still on the line: the line
    empties over the phase, as it does with real callers, instead of all at once at its end
    (`hang_up_the_rest`: ~186 status callbacks in the same second made `ivr bench abuse`'s p99
    a measure of that burst)."""

    rng: random.Random
    end: float
    due: list[tuple[float, Any]] = field(default_factory=list)
    left: int = 0

    def plan(self, leg: Any, now: float) -> None:
        self.due.append((self.rng.uniform(now, self.end), leg))

    def hang_up(self, stack: Stack, now: float) -> None:
        leaving = [leg for at, leg in self.due if at <= now]
        if not leaving:
            return
        self.due = [(at, leg) for at, leg in self.due if at > now]
        self.left += stack.standin.hang_up([leg for leg in leaving
                                            if leg.status not in TERMINAL])


def run_load(stack: Stack, rate: float, duration: float, concurrency: int,
             seed: int | None = None, drain: float = 120.0,
             during: Any = None, outcome_wait: float = 20.0,
             leave_over_phase: bool = False) -> tuple[LoadResult, list[Any]]:
    """Play the load; `during(elapsed)` is called about every 0.2 s (fault injection).
    Ended calls' records are waited for up to `outcome_wait` seconds. `leave_over_phase`:
    callers hang up at moments spread over the phase (`Departures`)."""
    rng = random.Random(seed)
    legs: list[Any] = []
    started = time.monotonic()
    departures = Departures(random.Random(seed), started + duration)
    next_at = started
    on_line: list[int] = []
    while (now := time.monotonic()) - started < duration:
        active = sum(1 for leg in legs if leg.status not in TERMINAL)
        on_line.append(active)
        if now >= next_at and active < concurrency:
            scenario = rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
            legs.append(stack.standin.start_inbound(caller_number(rng), scenario.to,
                                                    fill(scenario, rng)))
            if leave_over_phase:
                departures.plan(legs[-1], now)
            next_at = now + rng.expovariate(rate)
        departures.hang_up(stack, now)
        if during is not None:
            during(now - started)
        time.sleep(0.01 if now < next_at else 0)
    result = score(stack, legs, started, drain, outcome_wait, departures.left)
    result.peak_on_line = max(on_line, default=0)
    result.mean_on_line = sum(on_line) / max(len(on_line), 1)
    return result, legs


def score(stack: Stack, legs: list[Any], started: float, drain: float, outcome_wait: float,
          left: int = 0) -> LoadResult:
    """Let the calls drain, hang up the rest, and count what was lost."""
    deadline = time.monotonic() + drain
    while any(leg.status not in TERMINAL for leg in legs) and time.monotonic() < deadline:
        time.sleep(0.2)
    result = LoadResult(placed=len(legs), seconds=time.monotonic() - started, left=left)
    result.hung_up = hang_up_the_rest(stack, legs)
    done = {leg.call_sid for leg in legs if leg.status in TERMINAL}
    ended = ended_calls(stack, done, outcome_wait)
    for leg in legs:
        if leg.status not in TERMINAL:
            result.unfinished.append(leg.call_sid)
            continue
        result.completed += 1
        if not leg.transcript.ok:
            result.with_errors.append(leg.call_sid)
        if leg.call_sid not in ended:
            result.without_outcome.append(leg.call_sid)
    return result


def hang_up_the_rest(stack: Stack, legs: list[Any], wait: float = 15.0) -> int:
    """Callers still on the line at the end hang up (as they would); their calls must then
    end and be recorded like any abandon."""
    holding = [leg for leg in legs if leg.status not in TERMINAL]
    stack.standin.hang_up(holding)
    deadline = time.monotonic() + wait
    while any(leg.status not in TERMINAL for leg in holding) and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(holding)


def ended_calls(stack: Stack, expected: set[str], wait: float = 20.0) -> set[str]:
    """CallSids whose record in the outcome database has ended (the worker's writer folds the
    events in a moment after the status callback, so keep looking for up to `wait` s)."""
    from sqlalchemy import create_engine, text


    # the database the stack's processes use: they inherit DATABASE_URL (SQLite when unset)
    engine = create_engine(database_url(from_env().database_url,
                                        stack.workdir / "instance"))
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT call_sid FROM calls "
                                             "WHERE ended_at IS NOT NULL")).fetchall()
                found = {row[0] for row in rows}
            except Exception:  # noqa: BLE001 - the writer has not created the schema yet
                found = set()
            if expected <= found or time.monotonic() > deadline:
                return found
            time.sleep(1.0)
    finally:
        engine.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report_lines(result: LoadResult, stack: Stack) -> list[str]:
    samples = list(stack.timings.samples)
    ok = [s for s in samples if s[2] == 200]
    lines = [f"calls placed {result.placed}, completed {result.completed} "
             f"({result.hung_up} still holding at the end were hung up), lost {result.lost} "
             f"(unfinished {len(result.unfinished)}, application errors "
             f"{len(result.with_errors)}, no recorded outcome {len(result.without_outcome)})",
             f"webhooks: {len(samples)} requests in {result.seconds:.0f} s "
             f"({len(samples) / max(result.seconds, 1e-9):.1f}/s), "
             f"{len(samples) - len(ok)} errors, {stack.timings.fallbacks} fallback answers",
             f"  {'webhook':<32}{'count':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"]
    for sid in (result.with_errors + result.unfinished)[:3]:
        lines.append(f"  lost {sid}: {describe(stack, sid)}")
    for kind in sorted({s[0] for s in samples}):
        lat = [s[1] * 1000 for s in ok if s[0] == kind]
        lines.append(f"  {kind:<32}{len(lat):>7}{percentile(lat, .5):>8.1f}"
                     f"{percentile(lat, .95):>8.1f}{percentile(lat, .99):>8.1f}")
    return lines


def as_json(result: LoadResult) -> str:
    return json.dumps({"placed": result.placed, "completed": result.completed,
                       "lost": result.lost, "unfinished": result.unfinished,
                       "with_errors": result.with_errors,
                       "without_outcome": result.without_outcome})


def describe(stack: Stack, call_sid: str) -> str:
    """The first error (or the last event) of a lost call, for the report."""
    try:
        leg = stack.standin.leg(call_sid)
    except Exception:  # noqa: BLE001
        return "unknown call"
    events = leg.transcript.errors or leg.transcript.events[-1:]
    return events[0].line() if events else "no events"
