"""Estimated wait time (EWT): what a caller joining a queue is told about their hold.

Owns the learned queue statistics (`HoldStats`, a small serialisable value the store keeps per
queue), the events that update them (`record_answered`, `record_abandoned`, `record_call_ended`,
`record_staffing`) and the estimate itself (`estimate_wait`, `estimate_wait_range`). The words
announced to callers live in `ivr/domain/announce.py`. Pure: no I/O, no clock; `now` is an
argument. Must not import Flask, Redis or anything that touches the outside world.

The model (see docs/holdtime.md for the why and the scores) is the queue-length estimator of
Whitt (1999) with abandonment (Erlang A, Ibrahim & Whitt 2009), conditioned on the caller
being answered, with two refinements for real queues:

* Answered callers, not all callers. With exponential patience (rate theta) a caller at
  position k waits W = sum of k phases with rates s*mu + j*theta (j = callers still ahead);
  conditioning on the caller's own patience outlasting W tilts every phase by theta, so
  E[W | answered] = sum_{j=1..k} 1 / (s*mu + j*theta): smaller than the unconditioned mean.
* Agents still finishing after a staffing cut (busy > agents) must end their calls before a
  place frees up; those completions are extra phases (an exact small dynamic programme).
* Non-exponential talk times: when places free up depends on how long the ongoing calls have
  lasted. When the snapshot carries their ages, the first phase lasts until the first call in
  progress ends and, for variable talk times, later phases run at the departure rate those calls
  allow (a lognormal or two-moment law fitted in `ivr/domain/talktime.py`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from ivr.domain.talktime import (
    SCV_EXP,
    departure_rates,
    first_departure_mean,
    looks_lognormal,
)

# Effective memory of the exponentially weighted statistics, in observations. Long enough that
# a stationary queue's talk-time mean is known to about 3 % (the estimate scales with it), short
# enough to follow a change in talk times within a day of a busy queue.
HANDLE_MEMORY = 1000.0
WAIT_MEMORY = 2000.0
# The admin's configured talk time counts as this many calls until real calls complete.
PRIOR_CALLS = 5.0
# After a staffing change the estimate is announced as a range for this long (seconds).
STAFFING_SETTLE = 900.0
MAX_WAIT = 7 * 24 * 3600.0
LOG_EVIDENCE = 50.0  # completed calls before the shape of the talk-time law is trusted


@dataclass(frozen=True)
class QueueState:
    """The queue at the instant a caller asks, before they join.

    `queue_len`: callers waiting ahead. `agents`: staffed agents; `busy`: agents on a call (may
    exceed `agents` right after a staffing cut, while leaving agents finish). `call_ages`:
    seconds each ongoing call has lasted, when the engine knows them (None: unknown; used only
    when there is one per busy agent and talk times are not exponential). `hol_wait`: how long
    the head of the line has waited; accepted for the engine's convenience but not used, since
    with memoryless patience it does not change the wait of the caller joining.
    """

    queue_len: int
    agents: int
    busy: int
    hol_wait: float | None = None
    call_ages: tuple[float, ...] | None = None


@dataclass(frozen=True)
class HoldStats:
    """What the estimator has learned about one queue. Plain floats, so `as_dict`/`from_dict`
    round-trip through JSON or a Redis hash.

    Talk time: exponentially weighted first and second moments (`handle_mean`, `handle_sq`)
    over about HANDLE_MEMORY calls, started from the configured talk time, and the same for
    the log of talk time (no prior) to choose the shape of the law. Patience:
    `abandon_weight` / `wait_exposure` is the maximum-likelihood abandonment rate theta of
    exponential patience (abandons per second spent waiting, answered waits censored).
    """

    handle_mean: float
    handle_sq: float
    handle_weight: float
    abandon_weight: float = 0.0
    wait_exposure: float = 0.0
    waits_seen: float = 0.0
    completed: int = 0
    staffing_changed_at: float | None = None
    log_mean: float = 0.0  # moments of ln(talk seconds), to tell lognormal talk times apart
    log_sq: float = 0.0
    log_weight: float = 0.0
    # Calibration of the announced range (ivr/domain/wait_range.py): where answered callers'
    # real waits fell in their forecast, as learned quantiles of the standardised log wait.
    z_low: float = -1.2816
    z_high: float = 1.2816
    ranges_seen: float = 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float | int | None]) -> HoldStats:
        """Inverse of `as_dict`; unknown keys are ignored so old and new versions coexist."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]


@dataclass(frozen=True)
class WaitEstimate:
    """`seconds`: the expected wait of a caller who is answered. `uncertainty`: relative
    doubt in the model's parameters (0 = well known; 0.5 = could be 50 % longer). `spread`:
    the standard deviation of the log of the wait under the model (its phases' own randomness
    and the parameters' doubt): the width of the forecast that ivr/domain/wait_range.py turns
    into an announced range."""

    seconds: float
    uncertainty: float
    spread: float = 0.0


def new_stats(aht_hint: float) -> HoldStats:
    """Statistics for a queue nobody has called yet; `aht_hint` is the configured talk time
    (seconds), used as a prior worth PRIOR_CALLS calls. Raises ValueError if not positive."""
    if not (aht_hint > 0 and math.isfinite(aht_hint)):
        raise ValueError(f"aht_hint {aht_hint!r} must be a positive number of seconds")
    return HoldStats(handle_mean=aht_hint, handle_sq=2.0 * aht_hint * aht_hint,
                     handle_weight=PRIOR_CALLS)


def _ewm(old: float, weight: float, value: float, memory: float) -> tuple[float, float]:
    """Running mean while fewer than `memory` observations, then exponentially weighted."""
    weight = min(weight + 1.0, memory)
    return old + (value - old) / weight, weight


def record_call_ended(stats: HoldStats, handle: float, now: float) -> HoldStats:
    """A call finished after `handle` seconds of talk time. Non-finite or negative values are
    ignored (a broken record must not poison every later estimate)."""
    if not (math.isfinite(handle) and handle >= 0):
        return stats
    mean, weight = _ewm(stats.handle_mean, stats.handle_weight, handle, HANDLE_MEMORY)
    sq, _ = _ewm(stats.handle_sq, stats.handle_weight, handle * handle, HANDLE_MEMORY)
    log = math.log(max(handle, 1.0))
    log_mean, log_weight = _ewm(stats.log_mean, stats.log_weight, log, HANDLE_MEMORY)
    log_sq, _ = _ewm(stats.log_sq, stats.log_weight, log * log, HANDLE_MEMORY)
    return replace(stats, handle_mean=mean, handle_sq=sq, handle_weight=weight,
                   completed=stats.completed + 1, log_mean=log_mean, log_sq=log_sq,
                   log_weight=log_weight)


def _record_wait(stats: HoldStats, wait: float, abandoned: bool) -> HoldStats:
    if not (math.isfinite(wait) and wait >= 0):
        return stats
    keep = 1.0 - 1.0 / WAIT_MEMORY
    return replace(stats,
                   abandon_weight=stats.abandon_weight * keep + (1.0 if abandoned else 0.0),
                   wait_exposure=stats.wait_exposure * keep + wait,
                   waits_seen=stats.waits_seen * keep + 1.0)


def record_answered(stats: HoldStats, wait: float, now: float) -> HoldStats:
    """An agent answered a caller who had waited `wait` seconds (a censored patience)."""
    return _record_wait(stats, wait, abandoned=False)


def record_abandoned(stats: HoldStats, wait: float, now: float) -> HoldStats:
    """A caller hung up after waiting `wait` seconds."""
    return _record_wait(stats, wait, abandoned=True)


def record_staffing(stats: HoldStats, agents: int, now: float) -> HoldStats:
    """The number of staffed agents changed (the new count arrives with each snapshot; the
    time is kept so the announcement can be vaguer while the queue settles)."""
    return replace(stats, staffing_changed_at=now)


def abandon_rate(stats: HoldStats) -> float:
    """theta, abandonments per second of waiting; 0 until somebody has hung up."""
    if stats.abandon_weight <= 0 or stats.wait_exposure <= 0:
        return 0.0
    return stats.abandon_weight / stats.wait_exposure


def handle_scv(stats: HoldStats) -> float:
    """Squared coefficient of variation of talk times (1 for exponential), kept in [0.05, 50]."""
    var = stats.handle_sq - stats.handle_mean ** 2
    return min(max(var / max(stats.handle_mean ** 2, 1e-9), 0.05), 50.0)


def talk_is_lognormal(stats: HoldStats) -> bool:
    """Whether completed calls look lognormal rather than exponential-like (needs 50 calls)."""
    if stats.log_weight < LOG_EVIDENCE:
        return False
    return looks_lognormal(handle_scv(stats), stats.log_sq - stats.log_mean ** 2)


def _phase_sums(ahead: int, s: int, mu: float, theta: float,
                rates: list[float] | None = None) -> tuple[list[float], list[float]]:
    """For n = 0..ahead callers ahead and no extra busy agents: P[n] = chance the caller is
    answered, T[n] = E[wait * 1{answered}]. Phase n has departure rate s*mu (or rates[n])
    plus n*theta abandonments ahead, and is killed at theta (the caller's own patience)."""
    p, t = [0.0] * (ahead + 1), [0.0] * (ahead + 1)
    prev_p, prev_t = 1.0, 0.0
    for n in range(ahead + 1):
        rate = (rates[n] if rates is not None else s * mu) + n * theta
        go = rate / (rate + theta)
        prev_t = go * (prev_p / (rate + theta) + prev_t)
        prev_p = go * prev_p
        p[n], t[n] = prev_p, prev_t
    return p, t


def _answered_wait(ahead: int, extra: int, s: int, mu: float, theta: float,
                   rates: list[float] | None = None) -> float:
    """E[wait | answered] for a caller with `ahead` callers in front, `extra` agents who must
    finish before the staffed `s` serve the queue. Exact for exponential talk and patience:
    a killed Markov chain on (extra, ahead), each state left at its rate plus theta."""
    p, t = _phase_sums(ahead, s, mu, theta, rates if extra == 0 else None)
    for e in range(1, extra + 1):
        q_p, q_t = [0.0] * (ahead + 1), [0.0] * (ahead + 1)
        done = (s + e) * mu
        for n in range(ahead + 1):
            out = done + n * theta + theta
            a_p = done * p[n] + (n * theta * q_p[n - 1] if n else 0.0)
            a_t = done * t[n] + (n * theta * q_t[n - 1] if n else 0.0)
            q_p[n] = a_p / out
            q_t[n] = (a_p / out) / out + a_t / out
        p, t = q_p, q_t
    if p[ahead] <= 1e-300:
        return (ahead + extra + 1) / max(s * mu, 1e-12)
    return t[ahead] / p[ahead]


def estimate_wait_range(state: QueueState, stats: HoldStats, now: float) -> WaitEstimate:
    """The expected wait (seconds) of the caller about to join, if answered, and how sure.

    0 when an agent is free and nobody waits. Always finite and >= 0: with no staffed agents the
    queue is treated as served by one agent at the learned talk time, so the caller still hears
    a number, honestly labelled as uncertain.
    """
    agents, busy, queue_len = max(state.agents, 0), max(state.busy, 0), max(state.queue_len, 0)
    idle = agents - busy
    if idle > 0 and queue_len < idle:
        return WaitEstimate(0.0, 0.0)
    s = max(agents, 1)
    ahead = queue_len - max(idle, 0)  # free agents take the first callers at once
    extra = max(busy - s, 0)
    mean = max(stats.handle_mean, 1e-3)
    mu, theta = 1.0 / mean, abandon_rate(stats)
    rates = None
    if state.call_ages and extra == 0 and len(state.call_ages) >= s:
        rates = _phase_rates(state.call_ages, ahead, s, mean, handle_scv(stats), theta,
                             talk_is_lognormal(stats))
    wait = _answered_wait(ahead, extra, s, mu, theta, rates)
    doubt = _uncertainty(stats, agents, now)
    spread = math.sqrt(math.log1p(_phase_scv(ahead, extra, s, mu, theta, rates))
                       + math.log1p(doubt * doubt))
    return WaitEstimate(_clean(wait), doubt, spread)


def _phase_scv(ahead: int, extra: int, s: int, mu: float, theta: float,
               rates: list[float] | None) -> float:
    """Squared coefficient of variation of the answered caller's wait: a sum of exponential
    phases (each left at its departure rate plus the abandonments ahead and the caller's own
    patience), so variance / mean^2 = sum 1/q^2 / (sum 1/q)^2. Agents finishing after a cut
    add phases at their completion rates."""
    phases = [(rates[n] if rates is not None else s * mu) + (n + 1) * theta
              for n in range(ahead + 1)]
    phases += [(s + e) * mu + (ahead + 1) * theta for e in range(1, extra + 1)]
    # Summed left to right by hand, not with sum(): Python 3.12's sum() compensates rounding,
    # and ivr/domain/wait_table.py must reproduce these sums bit for bit from running totals.
    mean = sq = 0.0
    for q in phases:
        mean += 1.0 / q
        sq += 1.0 / (q * q)
    return sq / (mean * mean) if mean > 0 else 0.0


def _phase_rates(ages: tuple[float, ...], ahead: int, s: int, mean: float, scv: float,
                 theta: float, lognormal: bool) -> list[float] | None:
    """Departure rate of each phase (index n = callers still ahead) when talk times are not
    exponential: the first phase lasts until the first ongoing call ends; with variable talk
    times later phases run at the rate the agents' current calls let places free up at the
    time the phase is expected to start (a fluid clock through the phases), since agents
    stuck on long calls stay stuck. None when ages carry no information."""
    if abs(scv - 1.0) <= SCV_EXP and not lognormal:
        return None
    first = 1.0 / max(first_departure_mean(ages, mean, scv, lognormal), 1e-6)
    if scv < 1.0:
        # Regular talk times: once the first call ends the agents' calls are staggered and
        # places free up at the staffed rate (the fluid clock scored worse on such queues).
        return [s / mean] * ahead + [first]
    horizon = (ahead + 1) * mean / s * 2.0
    grid = departure_rates(ages, mean, scv, horizon, lognormal)
    step = horizon / (len(grid) - 1)
    rates, clock = [0.0] * (ahead + 1), 0.0
    for n in range(ahead, -1, -1):
        if n == ahead:
            rate = first
        else:
            x = min(clock / step, len(grid) - 1.0)
            i = min(int(x), len(grid) - 2)
            rate = grid[i] + (grid[i + 1] - grid[i]) * (x - i)
        rates[n] = max(rate, 1e-9)
        clock += 1.0 / (rates[n] + n * theta + theta)
    return rates


def _uncertainty(stats: HoldStats, agents: int, now: float) -> float:
    """Relative doubt in the parameters: the talk-time mean's standard error, more while few
    calls have completed, and a floor after a staffing change or with nobody staffed."""
    n = stats.completed + PRIOR_CALLS
    doubt = math.sqrt(handle_scv(stats) / n)
    changed = stats.staffing_changed_at
    if changed is not None and 0 <= now - changed < STAFFING_SETTLE:
        doubt = max(doubt, 0.3)
    if agents <= 0:
        doubt = max(doubt, 1.0)
    return _clean(min(doubt, 1.0))


def _clean(x: float) -> float:
    if not math.isfinite(x) or x < 0:
        return 0.0 if (x != x or x < 0) else MAX_WAIT
    return min(x, MAX_WAIT)


def estimate_wait(state: QueueState, stats: HoldStats, now: float) -> float:
    """Seconds the caller joining now should expect to wait if answered (see
    `estimate_wait_range`)."""
    return estimate_wait_range(state, stats, now).seconds
