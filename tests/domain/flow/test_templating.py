"""Templates and spoken values: money, numbers, digits, dates and times in both languages."""

from __future__ import annotations

import pytest

from ivr.domain.flow import spoken
from ivr.domain.flow.templating import TemplateError, parse_template, render

ORDER = {"order": {"total": "42.50", "date": "2026-11-24", "number": "10000008",
                   "restore": "2026-11-24T18:30:00-08:00"}}


@pytest.mark.parametrize(("value", "language", "words"), [
    ("42.50", "en-US", "forty-two dollars and fifty cents"),
    (42.5, "es-US", "cuarenta y dos dólares con cincuenta centavos"),
    ("1.01", "en-US", "one dollar and one cent"),
    ("1.00", "es-US", "un dólar"),
    ("1234567.89", "en-US", "one million two hundred thirty-four thousand five hundred "
                            "sixty-seven dollars and eighty-nine cents"),
    ("$0.5", "en-US", "zero dollars and fifty cents"),
    ("-3", "en-US", "minus three dollars"),
    ("2.005", "en-US", "two dollars and one cent"),  # half up to the cent
    ("n/a", "en-US", "n/a"),                          # not a number: said as is
])
def test_money(value: object, language: str, words: str) -> None:
    assert spoken.money_words(value, language) == words


@pytest.mark.parametrize(("n", "language", "words"), [
    (0, "en-US", "zero"), (15, "en-US", "fifteen"), (105, "en-US", "one hundred five"),
    (2026, "en-US", "two thousand twenty-six"), (21, "es-US", "veintiuno"),
    (100, "es-US", "cien"), (116, "es-US", "ciento dieciséis"),
    (1000, "es-US", "mil"), (21000, "es-US", "veintiún mil"),
    (1_000_000, "es-US", "un millón"),
])
def test_integer_words(n: int, language: str, words: str) -> None:
    assert spoken.integer_words(n, language) == words


def test_number_with_decimals() -> None:
    assert spoken.number_words("3.25") == "three point two five"


def test_dates_and_times() -> None:
    assert spoken.date_words("2026-11-24") == "Tuesday, November 24"
    assert spoken.date_words("2026-11-24", "es-US") == "martes, 24 de noviembre"
    assert spoken.time_words("18:00") == "6 PM"
    assert spoken.time_words("09:05", "es-US") == "9:05 de la mañana"
    assert spoken.datetime_words(ORDER["order"]["restore"]) == \
        "Tuesday, November 24 at 6:30 PM"
    assert spoken.date_words("someday") == "someday"


def test_render_with_filters_in_the_call_language() -> None:
    template = parse_template("Order {{ order.number | digits }} costs {{ order.total | money }}"
                              " and arrives {{ order.date|date }}.")
    assert render(template, ORDER, "en-US") == ("Order 1 0 0 0 0 0 0 8 costs forty-two dollars "
                                                "and fifty cents and arrives Tuesday, "
                                                "November 24.")
    assert "martes, 24 de noviembre" in render(template, ORDER, "es-US")


def test_missing_values_render_empty_or_default() -> None:
    template = parse_template("Hi {{ caller.name | default('there') }}{{ nothing.here }}!")
    assert render(template, {}, "en-US") == "Hi there!"


@pytest.mark.parametrize("text", [
    "{{ order.total + 1 }}", "{{ order.__class__ }}", "{{ x | shout }}",
    "{{ x | money(1) }}", "{{ open('x') }}", "unbalanced {{ x", "{{ }}",
])
def test_templates_reject_anything_but_names_and_filters(text: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(text)
