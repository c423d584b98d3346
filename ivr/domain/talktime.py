"""Talk-time law fitted from two moments, and the time until the next call in progress ends.

Owns the non-exponential refinement of the hold-time estimate (`ivr/domain/holdtime.py`): with
talk times far from exponential, how long the ongoing calls have lasted says when an agent
frees up. Pure arithmetic; imports nothing outside the standard library.

Which law: talk times in call centres are close to lognormal (Brown et al. 2005, "Statistical
analysis of a telephone call center"), but a queue with exponential talk must still get Erlang
A, where ages carry no information. The variance of log talk time tells them apart (pi^2/6 for
the exponential, ln(1 + scv) for the lognormal), so `looks_lognormal` picks the lognormal
when the data say so, else a law that is exactly exponential at scv 1:

* scv > 1: a balanced-means two-phase hyperexponential (Whitt's H2b): a mix of short and long
  calls, so an old call is probably a long one (decreasing hazard);
* scv < 1: a shifted exponential, a fixed minimum d plus an exponential tail, with
  d = mean * (1 - sqrt(scv)): an old call is probably nearly done (increasing hazard).
"""

from __future__ import annotations

import math

STEPS = 32
MANY_CALLS = 12
SCV_EXP = 0.05  # within this of 1 (and not lognormal) the law is treated as exponential
EXP_LOG_VAR = math.pi ** 2 / 6  # variance of log(talk) for exponential talk times
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def looks_lognormal(scv: float, log_var: float) -> bool:
    """True when the variance of log talk times is nearer the lognormal's ln(1 + scv) than
    the variance the two-moment alternative (hyperexponential or shifted exponential) has."""
    if scv > 1:
        p = 0.5 * (1 + math.sqrt((scv - 1) / (scv + 1)))
        alternative = EXP_LOG_VAR + p * (1 - p) * math.log(p / (1 - p)) ** 2
    else:
        alternative = EXP_LOG_VAR * scv
    return log_var < 0.5 * (math.log1p(scv) + alternative)


class TalkLaw:
    """Survival function P(talk > x) of the fitted law with the given mean and scv."""

    def __init__(self, mean: float, scv: float, lognormal: bool = False) -> None:
        self.mean = max(mean, 1e-6)
        self.scv = scv
        self.shift = 0.0
        self.lognormal = lognormal
        self.sigma = math.sqrt(math.log1p(max(scv, 1e-6)))
        self.mu = math.log(self.mean) - self.sigma ** 2 / 2
        if scv > 1 + SCV_EXP:
            self.p = 0.5 * (1 + math.sqrt((scv - 1) / (scv + 1)))
            self.rates = (2 * self.p / self.mean, 2 * (1 - self.p) / self.mean)
        elif scv < 1 - SCV_EXP:
            self.shift = self.mean * (1 - math.sqrt(max(scv, 0.0)))
            self.p, self.rates = 1.0, (1 / (self.mean - self.shift), 1.0)
        else:
            self.p, self.rates = 1.0, (1 / self.mean, 1.0)

    def _z(self, x: float) -> float:
        return (math.log(x) - self.mu) / self.sigma

    def log_survival(self, x: float) -> float:
        if self.lognormal:
            if x <= 0:
                return 0.0
            z = self._z(x)
            if z < 6:
                return math.log(0.5 * math.erfc(z / _SQRT2))
            # Mills ratio: log S = log(phi(z) / z) for large z, where erfc would underflow
            return -0.5 * z * z - math.log(z * math.sqrt(2 * math.pi)) + math.log1p(-1 / (z * z))
        if x <= self.shift:
            return 0.0
        x -= self.shift
        a = math.log(self.p) - self.rates[0] * x if self.p > 0 else -math.inf
        if self.p >= 1.0:
            return a
        b = math.log(1 - self.p) - self.rates[1] * x
        top = max(a, b)
        return top + math.log(math.exp(a - top) + math.exp(b - top))

    def hazard(self, x: float, log_survival: float | None = None) -> float:
        """Rate at which a call that has lasted x seconds ends (`log_survival`: log S(x) if
        the caller already has it)."""
        if self.lognormal:
            if x <= 0:
                return 0.0
            z = self._z(x)
            log_s = self.log_survival(x) if log_survival is None else log_survival
            return math.exp(-0.5 * z * z - math.log(x * self.sigma * _SQRT2PI) - log_s)
        if x < self.shift:
            return 0.0
        if self.p >= 1.0:
            return self.rates[0]
        x -= self.shift
        l1, l2 = self.rates
        w1, w2 = self.p * math.exp(-l1 * x), (1 - self.p) * math.exp(-l2 * x)
        return (w1 * l1 + w2 * l2) / (w1 + w2) if w1 + w2 > 0 else min(l1, l2)


def first_departure_mean(ages: tuple[float, ...], mean: float, scv: float,
                         lognormal: bool = False) -> float:
    """E[min residual talk time] over calls that have lasted `ages` seconds: the expected wait
    until the first of them ends (seconds). Exponential law: mean / len(ages), ages aside.

    Integrates prod_i S(a_i + t) / S(a_i) on a grid scaled to mean / len(ages), with an
    exponential tail beyond the grid so heavy tails stay finite.
    """
    n = len(ages)
    if n == 0:
        return 0.0
    if n >= MANY_CALLS:
        # Many calls: the first ends within mean / n, over which hazards barely move.
        law = TalkLaw(mean, scv, lognormal)
        return 1.0 / max(sum(law.hazard(max(a, 0.0)) for a in ages), 1e-12)
    if abs(scv - 1) <= SCV_EXP and not lognormal:
        return mean / n
    law = TalkLaw(mean, scv, lognormal)
    base = [(max(a, 0.0), law.log_survival(max(a, 0.0))) for a in ages]

    def still_talking(t: float) -> float:  # P(no call in progress has ended by t)
        return math.exp(sum(law.log_survival(a + t) - b for a, b in base))

    step = (4.0 * mean / n + max(law.shift - min(ages), 0.0)) / STEPS
    total, prev, t = 0.0, 1.0, 0.0
    for _ in range(STEPS):
        t += step
        cur = still_talking(t)
        total += 0.5 * (prev + cur) * step
        if cur < 1e-4:
            return total
        before, prev = prev, cur
    # Beyond the grid: an exponential tail at the rate the product fell over the last step.
    decay = math.log(before / prev) / step if before > prev > 0 else n / mean
    return total + prev / decay


def departure_rates(ages: tuple[float, ...], mean: float, scv: float, horizon: float,
                    lognormal: bool = False, points: int = 24) -> list[float]:
    """Expected rate at which places free up (departures per second) at times
    horizon * i / (points - 1) from now, for agents now on calls of the given ages who keep
    answering callers: each call ends at its residual density, then the agent serves fresh
    calls at 1 / mean (after the law's minimum talk time). The sum is len(ages) / mean at
    every time for exponential talk; with variable talk times a queue stuck behind long calls
    drains slower than its staffing says.
    """
    law = TalkLaw(mean, scv, lognormal)
    base = [(max(a, 0.0), law.log_survival(max(a, 0.0))) for a in ages]
    out = []
    for i in range(points):
        t = horizon * i / (points - 1)
        rate = 0.0
        lag = t - law.shift
        for a, b in base:
            log_s = law.log_survival(a + t)
            alive = math.exp(log_s - b)
            # a fresh call lasts at least the law's minimum: its agent frees up again only
            # once the current call has been over for that long
            if law.shift == 0.0:
                done = 1.0 - alive
            else:
                done = 1.0 - math.exp(law.log_survival(a + lag) - b) if lag > 0 else 0.0
            rate += alive * law.hazard(a + t, log_s) + done / law.mean
        out.append(rate)
    return out
