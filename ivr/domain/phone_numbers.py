"""Which numbers a callback may be placed to. Pure: a string in, a normalised string or a
`BadNumber` with the reason out.

We only call back E.164 numbers (`+` then 8..15 digits, no leading 0 country code) and refuse
numbers that cost the caller or us money or reach nobody: North American premium (+1 900 and
+1 976), UK premium (+44 9xx) and short numbers (fewer than 8 digits, e.g. 911, 112, 116123).
"""

from __future__ import annotations

import re

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# Prefixes refused after normalisation; the tuple says why in the error message.
_PREMIUM = (
    ("+1900", "a US premium-rate (+1 900) number"),
    ("+1976", "a US premium-rate (+1 976) number"),
    ("+449", "a UK premium-rate (+44 9xx) number"),
)


class BadNumber(ValueError):
    """The number cannot be called back; the message says why and what to enter instead."""


def normalise_number(raw: str) -> str:
    """Strip spaces, dashes, dots and brackets; `00` becomes `+`."""
    cleaned = re.sub(r"[\s\-().]", "", raw or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    return cleaned


def validate_callback_number(raw: str) -> str:
    """Return the E.164 form of `raw`, or raise BadNumber."""
    number = normalise_number(raw)
    digits = number.lstrip("+")
    if digits.isdigit() and len(digits) < 8:
        raise BadNumber(f"{raw!r} is a short number; give a full number with country code")
    if not _E164.match(number):
        raise BadNumber(
            f"{raw!r} is not an E.164 number; give it as + country code and number, "
            "e.g. +14155550100"
        )
    for prefix, why in _PREMIUM:
        if number.startswith(prefix):
            raise BadNumber(f"{raw!r} is {why}; callbacks go to ordinary numbers only")
    return number


def from_keypad(digits: str, country_code: str = "1") -> str:
    """A number keyed on a phone (no `+` key): `00` or `011` starts an international number;
    a North American caller keys 10 digits (or 1 + 10); elsewhere the national number gets
    `country_code` in front. The result still goes through `validate_callback_number`."""
    keyed = "".join(ch for ch in digits if ch.isdigit())
    if keyed.startswith("00"):
        return "+" + keyed[2:]
    if country_code == "1" and keyed.startswith("011"):
        return "+" + keyed[3:]
    if country_code == "1" and len(keyed) == 11 and keyed.startswith("1"):
        return "+" + keyed
    return f"+{country_code}{keyed.lstrip('0')}"


def canonical_number(raw: str, country_code: str = "1") -> str:
    """The one form a caller's number is stored and looked up under, so `+1 415 555 0100`,
    `(415) 555-0100` and `14155550100` are the same caller: E.164 when `raw` is a number
    (a national number gets `country_code`, as keyed on a phone); anything else (Twilio's
    `anonymous`, `client:alice`) unchanged but trimmed, so it still matches itself."""
    cleaned = normalise_number(raw)
    digits = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not digits.isdigit():
        return (raw or "").strip()
    return cleaned if cleaned.startswith("+") else from_keypad(cleaned, country_code)
