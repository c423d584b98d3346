"""The announced wait as an honest range ("between 3 and 5 minutes"), learned from outcomes.

The estimator (ivr/domain/holdtime.py) gives each caller a forecast: the expected wait and
`spread`, the standard deviation of the log of the wait under the queueing model. The model
alone is too sure of itself (its parameters are estimates, real talk times and staffing are
not what it assumes), so the range is calibrated on what happened: for every answered caller
who was given a forecast, z = (ln wait - m) / spread is where their real wait fell (m: the log
mean of a lognormal with the forecast's mean and spread). The queue keeps two running
quantiles of z (Robbins-Monro quantile tracking: two floats in HoldStats, no history), at the
tails that leave COVERAGE of callers inside, and announces [exp(m + spread z_low),
exp(m + spread z_high)]. A caller far back behind many agents gets a narrow range (a long sum
of phases averages out); the first in line behind three agents gets a wide one.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import replace

from ivr.domain.holdtime import MAX_WAIT, HoldStats, WaitEstimate

COVERAGE = 0.82  # share of answered callers whose wait should fall inside their range
_TAIL = (1.0 - COVERAGE) / 2.0
_STEP_FLOOR = 0.02  # the quantiles' learning rate once warm
_STEP_START = 1.0
_Z_LIMIT = 8.0  # a z beyond this is an outlier in any model: clipped, not learned from


def log_mean(seconds: float, spread: float) -> float:
    """m of the lognormal with mean `seconds` and log standard deviation `spread`."""
    return math.log(seconds) - spread * spread / 2.0


def announced_range(estimate: WaitEstimate, stats: HoldStats) -> tuple[float, float]:
    """(low, high) seconds for a caller given `estimate`; (0, 0) when they are answered at once.
    Always finite, 0 <= low <= estimate.seconds-ish <= high <= MAX_WAIT."""
    if estimate.seconds <= 0:
        return 0.0, 0.0
    if estimate.spread <= 0:
        return estimate.seconds, estimate.seconds
    m = log_mean(estimate.seconds, estimate.spread)
    low = math.exp(m + estimate.spread * min(stats.z_low, 0.0))
    high = math.exp(m + estimate.spread * max(stats.z_high, 0.0))
    return min(low, MAX_WAIT), min(high, MAX_WAIT)


def standardised(estimate: WaitEstimate, wait: float) -> float | None:
    """Where `wait` fell in the forecast, in log standard deviations; None without a forecast
    to compare with (answered at once, or no spread)."""
    if estimate.seconds <= 0 or estimate.spread <= 0 or not math.isfinite(wait) or wait < 0:
        return None
    if wait == 0:
        return -_Z_LIMIT
    z = (math.log(wait) - log_mean(estimate.seconds, estimate.spread)) / estimate.spread
    return max(-_Z_LIMIT, min(_Z_LIMIT, z))


def record_range_outcome(stats: HoldStats, estimate: WaitEstimate, wait: float) -> HoldStats:
    """A caller given `estimate` was answered after `wait` seconds: move the two quantiles
    towards the tails (a step of `rate` times (tail - 1{z below})), faster while few callers
    have been seen."""
    z = standardised(estimate, wait)
    if z is None:
        return stats
    seen = stats.ranges_seen + 1.0
    rate = max(_STEP_START / seen, _STEP_FLOOR)
    low = stats.z_low + rate * (_TAIL - (1.0 if z < stats.z_low else 0.0))
    high = stats.z_high + rate * ((1.0 - _TAIL) - (1.0 if z < stats.z_high else 0.0))
    return replace(stats, z_low=min(low, high), z_high=max(low, high), ranges_seen=seen)


def inside(low: float, high: float, wait: float) -> bool:
    """Whether the real wait fell inside the announced range (what the outcome records)."""
    return low <= wait <= high
