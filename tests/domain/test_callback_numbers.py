"""Toll-fraud policy for callback numbers (issue 12, item 4): real numbers from several
countries, classified with phonenumbers' metadata. The old prefix list refused only +1 900,
+1 976 and +44 9, so every premium, shared-cost, satellite and foreign case here got through.
"""

from __future__ import annotations

import pytest

from ivr.domain.phone_numbers import (
    BadNumber,
    Refusal,
    country_of,
    is_country,
    keyed_number,
    validate_callback_number,
)

ORDINARY = [
    ("+1 415 555 0100", "+14155550100", "US"),   # fixed line or mobile
    ("+1 613 555 0100", "+16135550100", "CA"),
    ("+44 20 7946 0018", "+442079460018", "GB"),  # London fixed line
    ("+44 7400 123456", "+447400123456", "GB"),   # UK mobile
    ("+49 151 12345678", "+4915112345678", "DE"),
    ("0033 6 12 34 56 78", "+33612345678", "FR"),
    ("+61 4 1234 5678", "+61412345678", "AU"),
    ("+1 800 555 0100", "+18005550100", "US"),    # toll free: free for us to call
]


@pytest.mark.parametrize(("raw", "expected", "country"), ORDINARY)
def test_ordinary_numbers_are_called_back(raw, expected, country):
    assert validate_callback_number(raw) == expected
    assert validate_callback_number(raw, {country}) == expected
    assert country_of(expected) == country


@pytest.mark.parametrize(("number", "kind"), [
    ("+19005550100", "premium_rate"),     # US 900
    ("+449091234567", "premium_rate"),    # UK 09
    ("+448712345678", "premium_rate"),    # UK 0871: the old list let this through
    ("+33891123456", "premium_rate"),     # France 089
    ("+499001234567", "premium_rate"),    # Germany 0900
    ("+39899123456", "premium_rate"),     # Italy 899
    ("+611900123456", "premium_rate"),    # Australia 1900
    ("+33810123456", "shared_cost"),      # France 081
    ("+34901123456", "shared_cost"),      # Spain 901
    ("+611300123456", "shared_cost"),     # Australia 1300
    ("+4918012345", "shared_cost"),       # Germany 0180
    ("+881612345678", "satellite"),       # Iridium
    ("+870772123456", "satellite"),       # Inmarsat
    ("+80012345678", "satellite"),        # international freephone: a non-geographic code
    ("+447012345678", "personal"),        # UK 070 "follow-me" number
    ("+15005550006", "personal"),         # NANP 500 personal communications
    ("+447640123456", "pager"),
    ("+443001234567", "uan"),
    ("+19765550100", "invalid"),          # 976 is not an area code in use
    ("+447700900123", "invalid"),         # Ofcom's drama range is never allocated
    ("+4990012345678", "invalid"),
    ("+12845550100", "invalid"),          # not a BVI number in the plan
])
def test_costly_or_unreachable_numbers_are_not_callable(number, kind):
    with pytest.raises(BadNumber) as refused:
        validate_callback_number(number)
    assert (refused.value.refusal, refused.value.kind) == (Refusal.NOT_CALLABLE, kind)


@pytest.mark.parametrize(("number", "countries"), [
    ("+18765550100", {"US", "CA"}),   # Jamaica shares +1: the "one ring" scam's favourite
    ("+442079460018", {"US"}),
    ("+16135550100", {"US"}),
    ("+447911123456", {"GB"}),        # a Guernsey mobile inside +44
    ("+4915112345678", set()),
])
def test_numbers_outside_the_queues_countries_are_refused(number, countries):
    assert validate_callback_number(number)  # a good number, only in the wrong place
    with pytest.raises(BadNumber, match="callbacks go to") as refused:
        validate_callback_number(number, countries)
    assert refused.value.refusal is Refusal.COUNTRY


def test_type_is_checked_before_country():
    """A premium number abroad is reported as premium: that is the reason that matters."""
    with pytest.raises(BadNumber) as refused:
        validate_callback_number("+449091234567", {"US"})
    assert refused.value.kind == "premium_rate"


@pytest.mark.parametrize(("digits", "region", "expected"), [
    ("4155550100", "US", "+14155550100"),
    ("14155550100", "US", "+14155550100"),
    ("011442079460018", "US", "+442079460018"),
    ("00442079460018", "US", "+442079460018"),
    ("02079460018", "GB", "+442079460018"),
    ("0033612345678", "GB", "+33612345678"),
    ("", "US", ""),
])
def test_keyed_numbers_are_read_as_a_phone_in_the_region_dials(digits, region, expected):
    assert keyed_number(digits, region) == expected


def test_country_codes_are_iso_regions():
    assert [is_country(c) for c in ("US", "GB", "CA", "UK", "XX", "us")] == [
        True, True, True, False, False, False]
    assert [country_of(n) for n in ("+881612345678", "garbage", "+16135550100")] == [
        None, None, "CA"]
