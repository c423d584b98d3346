"""Every place in line's wait estimate at once: `WaitTable`, shared by all the callers of a queue.

`holdtime.estimate_wait_range` costs O(callers ahead) of pure Python per caller, so a queue of
50,000 held callers asking every 30 s spent most of each hold answer there (issue 12: 70 % of a
hold answer's CPU under py-spy). Its recursions run from the head of the line backwards
(`_phase_sums`, the staffing-cut levels of `_answered_wait`, the sums of `_phase_scv`): the
values for n callers ahead are a prefix of the values for n + 1. So one pass over the line gives
every caller's estimate, and a table built once for the queue's inputs (staffing, busy agents,
learned statistics) answers each caller in O(1).

Contract: `WaitTable(agents, busy, stats).estimate(k, now)` is bit for bit
`estimate_wait_range(QueueState(queue_len=k, agents=agents, busy=busy), stats, now)`: the same
floating-point operations in the same order (tests/domain/test_wait_table.py compares them over
many positions and statistics). Only the estimate without call ages is tabled (the hold loop's;
call ages are per snapshot and change every second). `now` only moves the doubt (a staffing
change settling), which is computed per lookup, so a table stays exact for as long as its
inputs do. The table grows on demand up to the furthest place asked for.

Not thread-safe: callers sharing a table hold a lock (ivr/store/hold_forecast.py).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math

from ivr.domain.holdtime import (
    HoldStats,
    WaitEstimate,
    _clean,
    _uncertainty,
    abandon_rate,
)


class WaitTable:
    """Estimates for every number of callers ahead, for one queue's inputs."""

    def __init__(self, agents: int, busy: int, stats: HoldStats) -> None:
        self.agents, self.busy, self.stats = agents, busy, stats
        agents, busy = max(agents, 0), max(busy, 0)
        self._idle = agents - busy
        self._s = max(agents, 1)
        self._extra = max(busy - self._s, 0)
        self._mu = 1.0 / max(stats.handle_mean, 1e-3)
        self._theta = abandon_rate(stats)
        # Running state of the recursions after the last tabled place (n callers ahead).
        self._p, self._t = 1.0, 0.0  # _phase_sums' prev_p, prev_t
        self._level_p = [0.0] * self._extra  # each staffing-cut level's q_p[n - 1]
        self._level_t = [0.0] * self._extra
        self._sum1, self._sum2 = 0.0, 0.0  # _phase_scv's running sums
        self.waits: list[float] = []  # E[wait | answered] before _clean, by callers ahead
        self.scvs: list[float] = []  # _phase_scv, by callers ahead

    def matches(self, agents: int, busy: int, stats: HoldStats) -> bool:
        """Whether this table answers for these inputs (then it can be kept)."""
        return (agents, busy) == (self.agents, self.busy) and stats == self.stats

    def estimate(self, queue_len: int, now: float) -> WaitEstimate:
        """`estimate_wait_range` for a caller with `queue_len` callers ahead, at `now`."""
        queue_len = max(queue_len, 0)
        if self._idle > 0 and queue_len < self._idle:
            return WaitEstimate(0.0, 0.0)
        ahead = queue_len - max(self._idle, 0)
        while len(self.waits) <= ahead:
            self._extend()
        doubt = _uncertainty(self.stats, max(self.agents, 0), now)
        spread = math.sqrt(math.log1p(self.scvs[ahead]) + math.log1p(doubt * doubt))
        return WaitEstimate(_clean(self.waits[ahead]), doubt, spread)

    def _extend(self) -> None:
        """Table the next place: one step of each recursion, as the direct code does it."""
        n, s, mu, theta = len(self.waits), self._s, self._mu, self._theta
        rate = s * mu + n * theta  # _phase_sums
        go = rate / (rate + theta)
        self._t = go * (self._p / (rate + theta) + self._t)
        self._p = go * self._p
        p, t = self._p, self._t
        for e in range(1, self._extra + 1):  # _answered_wait's levels, one column at a time
            done = (s + e) * mu
            out = done + n * theta + theta
            a_p = done * p + (n * theta * self._level_p[e - 1] if n else 0.0)
            a_t = done * t + (n * theta * self._level_t[e - 1] if n else 0.0)
            p, t = a_p / out, (a_p / out) / out + a_t / out
            self._level_p[e - 1], self._level_t[e - 1] = p, t
        if p <= 1e-300:
            self.waits.append((n + self._extra + 1) / max(s * mu, 1e-12))
        else:
            self.waits.append(t / p)
        self.scvs.append(self._scv(n, s * mu + (n + 1) * theta))

    def _scv(self, n: int, q: float) -> float:
        """`_phase_scv` for n callers ahead: the running sums of the line's phases, then the
        staffing-cut phases, which depend on n, added after them."""
        self._sum1 += 1.0 / q
        self._sum2 += 1.0 / (q * q)
        mean, sq = self._sum1, self._sum2
        for e in range(1, self._extra + 1):
            cut = (self._s + e) * self._mu + (n + 1) * self._theta
            mean += 1.0 / cut
            sq += 1.0 / (cut * cut)
        return sq / (mean * mean) if mean > 0 else 0.0
