"""The words a waiting caller hears about their hold: seconds in, an honest phrase out.

Owns rounding and wording (English and Spanish). The number comes from
`ivr/domain/holdtime.py`; this module never estimates. Pure: no I/O, no clock.

Honesty rules, in order:
1. Never promise less than the estimate: every bound is rounded UP (1-minute steps to 10
   minutes, then 5-minute steps), so "about 4 minutes" means the estimate was at most 4.
2. Say a range ("between 10 and 15 minutes") when the estimator is unsure of its own
   parameters (few completed calls, staffing just changed): the low end is still the
   rounded-up estimate, the high end the estimate stretched by the uncertainty.
3. Do not quote numbers beyond an hour: "more than an hour".

`describe_range` speaks the calibrated range of ivr/domain/wait_range.py instead: the low end
rounded DOWN and the high end UP, so the spoken range contains the computed one, and one
number when the two ends are a step apart or less.
"""

from __future__ import annotations

import math

from ivr.domain.holdtime import WaitEstimate

LANGUAGES = ("en", "es")
RANGE_ABOVE = 0.25  # relative uncertainty from which a range is announced
_PHRASES = {
    "en": {"under": "less than a minute", "one": "about 1 minute", "about": "about {n} minutes",
           "between": "between {a} and {b} minutes", "more": "more than {n} minutes",
           "hour": "more than an hour", "up_to": "less than {n} minutes"},
    "es": {"under": "menos de un minuto", "one": "aproximadamente 1 minuto",
           "about": "unos {n} minutos", "between": "entre {a} y {b} minutos",
           "more": "más de {n} minutos", "hour": "más de una hora",
           "up_to": "menos de {n} minutos"},
}


def round_up_minutes(seconds: float) -> int:
    """Whole minutes >= seconds / 60: 1-minute steps up to 10, then 5-minute steps."""
    minutes = math.ceil(max(seconds, 0.0) / 60.0 - 1e-9)
    return minutes if minutes <= 10 else 5 * math.ceil(minutes / 5)


def round_down_minutes(seconds: float) -> int:
    """Whole minutes <= seconds / 60, in the steps of `round_up_minutes`."""
    minutes = math.floor(max(seconds, 0.0) / 60.0 + 1e-9)
    return minutes if minutes <= 10 else max(10, 5 * math.floor(minutes / 5))


def describe_range(low: float, high: float, language: str = "en") -> str:
    """The phrase for a wait between `low` and `high` seconds: "between 3 and 5 minutes",
    "less than 4 minutes" when the low end is under a minute, "about 3 minutes" when the
    rounded ends are one step apart or less. Raises ValueError for an unknown language."""
    if language not in _PHRASES:
        raise ValueError(f"no hold-time phrases for language {language!r}; use one of {LANGUAGES}")
    words = _PHRASES[language]
    high = high if math.isfinite(high) else 3600.0 * 2
    low = min(low if math.isfinite(low) else 0.0, high)
    a, b = round_down_minutes(low), round_up_minutes(high)
    if a >= 60:
        return words["hour"]
    if b > 60:
        return words["more"].format(n=max(a, 1))
    if high < 60:
        return words["under"]
    if a == 0:
        return words["up_to"].format(n=b)
    if b - a <= (1 if b <= 10 else 5):
        return words["one"] if b == 1 else words["about"].format(n=b)
    return words["between"].format(a=a, b=b)


def describe_wait(seconds: float, uncertainty: float = 0.0, language: str = "en") -> str:
    """The phrase for an expected wait of `seconds` with relative `uncertainty` (0 = sure,
    0.5 = could be half as long again). Raises ValueError for a language not in LANGUAGES.
    Non-finite or negative inputs are treated as the most cautious reading of them."""
    if language not in _PHRASES:
        raise ValueError(f"no hold-time phrases for language {language!r}; use one of {LANGUAGES}")
    words = _PHRASES[language]
    seconds = seconds if math.isfinite(seconds) else 3600.0 * 2
    doubt = uncertainty if math.isfinite(uncertainty) and uncertainty > 0 else 0.0
    doubt = 0.0 if doubt < RANGE_ABOVE else min(doubt, 2.0)
    low, high = round_up_minutes(seconds), round_up_minutes(seconds * (1 + doubt))
    if low > 60 or (low == 60 and high > 60):
        return words["hour"]
    if high > 60:
        return words["more"].format(n=low)
    if high == 0 or (seconds < 60 and high <= 1):
        return words["under"]
    if high > low:
        return words["between"].format(a=max(low, 1), b=high)
    return words["one"] if low == 1 else words["about"].format(n=low)


def announce_wait(estimate: WaitEstimate, language: str = "en") -> str:
    """`describe_wait` for an estimate from `holdtime.estimate_wait_range`."""
    return describe_wait(estimate.seconds, estimate.uncertainty, language)
