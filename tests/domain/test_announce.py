"""The words callers hear: both languages, rounding up, ranges when unsure."""

from __future__ import annotations

import math
import re

import pytest

from ivr.domain.announce import announce_wait, describe_wait, round_up_minutes
from ivr.domain.holdtime import WaitEstimate


@pytest.mark.parametrize(("seconds", "uncertainty", "en", "es"), [
    (0.0, 0.0, "less than a minute", "menos de un minuto"),
    (59.0, 0.1, "less than a minute", "menos de un minuto"),
    (60.0, 0.0, "about 1 minute", "aproximadamente 1 minuto"),
    (200.0, 0.0, "about 4 minutes", "unos 4 minutos"),
    (200.0, 0.1, "about 4 minutes", "unos 4 minutos"),
    (610.0, 0.0, "about 15 minutes", "unos 15 minutos"),
    (560.0, 0.5, "between 10 and 15 minutes", "entre 10 y 15 minutos"),
    (2900.0, 0.5, "more than 50 minutes", "más de 50 minutos"),
    (5000.0, 0.0, "more than an hour", "más de una hora"),
])
def test_phrases(seconds: float, uncertainty: float, en: str, es: str) -> None:
    assert describe_wait(seconds, uncertainty, "en") == en
    assert describe_wait(seconds, uncertainty, "es") == es


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("uncertainty", [0.0, 0.2, 0.4, 1.0])
def test_never_promises_less_than_the_estimate(language: str, uncertainty: float) -> None:
    for seconds in [x * 7.3 for x in range(0, 600)]:
        words = describe_wait(seconds, uncertainty, language)
        numbers = [int(n) for n in re.findall(r"\d+", words)]
        if numbers:
            assert numbers[0] * 60 >= seconds, words
        elif "minut" in words and seconds >= 60:  # "less than a minute" only below 60 s
            pytest.fail(f"{seconds} s announced as {words!r}")


def test_round_up_steps() -> None:
    assert [round_up_minutes(s) for s in (0, 1, 60, 61, 600, 601, 1500)] == [0, 1, 1, 2, 10, 15,
                                                                            25]


def test_bad_inputs_stay_cautious() -> None:
    assert describe_wait(math.inf) == "more than an hour"
    assert describe_wait(120.0, math.nan) == "about 2 minutes"
    assert describe_wait(-5.0) == "less than a minute"
    with pytest.raises(ValueError, match="fr"):
        describe_wait(60.0, 0.0, "fr")


def test_announce_an_estimate() -> None:
    assert announce_wait(WaitEstimate(250.0, 0.6), "es") == "entre 5 y 7 minutos"
