"""Which numbers we may call (or text) back, and why not. Pure: strings in, a normalised
string or a `BadNumber` carrying the `Refusal` out.

Toll fraud (issue 12): a caller holding in a queue keys a number and our Twilio account pays
to call it, so an attacker keys a premium-rate or satellite number and collects the revenue.
Numbers are classified with `phonenumbers` (Google's libphonenumber metadata, a pure library
with no I/O, allowed in the domain; see README.md) rather than a prefix list of our own,
which only ever knew +1 900/976 and +44 9.

Refused as "not a number we can call back" (`Refusal.NOT_CALLABLE`), with `kind` saying which:
- `invalid`: not E.164, too short (911, 112, 116123) or not a valid number in its country's
  plan (an unallocated range, +1 976, Ofcom's drama numbers);
- `premium_rate` (+1 900, +44 9xx and 87x/84x, +33 89x, +61 190x ...) and `shared_cost`
  (+33 81x, +34 901/902, +61 13 ...): the called party earns from the call;
- `satellite`: the non-geographic "country" codes (+870 Inmarsat, +881 Iridium/Globalstar,
  +882/+883 international networks, +979 international premium, +800/+808 international
  freephone): they cost dollars a minute and no customer of a local business has one;
- `uan` (universal access, +44 3x, +33 806): company numbers, some charged as shared cost;
  `personal` (+44 70, +1 500/533/...): "follow-me" numbers that forward anywhere and are a
  known fraud vehicle; `pager` and `voicemail`: nobody answers; `unknown_type`: the metadata
  cannot say what it is, so we cannot say what it costs.
Allowed types: fixed line, mobile, fixed-line-or-mobile, toll free (free or local rate to
call from its own country) and VoIP (many real customers have one).

`Refusal.COUNTRY`: the number is valid but not in the countries the queue lists. Countries
are ISO 3166 region codes as libphonenumber resolves them, so regions sharing a calling code
are told apart: `US` does not admit +1 876 (Jamaica) or +1 284 (BVI), the classic
"one ring" destinations, and `GB` does not admit Guernsey's +44 7911.
`Refusal.TOO_MANY` is decided by the store (a Redis counter); it is named here so every
refusal a caller can hear comes from one vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberType

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# The number types we refuse and the `kind` each is reported as (see the module docstring).
REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown_type",
}
_WHY = {
    "premium_rate": "a premium-rate number", "shared_cost": "a shared-cost number",
    "uan": "a universal access (company) number", "personal": "a personal (forwarding) number",
    "pager": "a pager", "voicemail": "a voicemail access number",
    "unknown_type": "a number of unknown type", "satellite": "a satellite or international "
    "network number",
}
NON_GEOGRAPHIC = "001"  # libphonenumber's region for +800, +870, +881, +882, +883, +979 ...


class Refusal(StrEnum):
    """Why a callback is refused; the caller hears a different prompt for each."""

    NOT_CALLABLE = "not_callable"  # invalid, premium, shared cost, satellite ...
    COUNTRY = "country"  # a country the queue does not serve
    TOO_MANY = "too_many"  # the number's callbacks for the day are used up


class BadNumber(ValueError):
    """The number cannot be called back; the message says why and what to enter instead.
    `refusal` picks what the caller hears, `kind` the finer reason for logs and tests."""

    def __init__(self, message: str, refusal: Refusal = Refusal.NOT_CALLABLE,
                 kind: str = "invalid") -> None:
        super().__init__(message)
        self.refusal = refusal
        self.kind = kind


def is_country(code: str) -> bool:
    """True for an ISO 3166 region code libphonenumber has a numbering plan for (`US`, `GB`;
    not `UK`, which is not ISO's code for the United Kingdom)."""
    return code in phonenumbers.SUPPORTED_REGIONS


def country_of(number: str) -> str | None:
    """The region of a valid E.164 number (`US`, `CA`, `JM` ...), else None."""
    try:
        parsed = phonenumbers.parse(normalise_number(number), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region != NON_GEOGRAPHIC else None


def normalise_number(raw: str) -> str:
    """Strip spaces, dashes, dots and brackets; `00` becomes `+`."""
    cleaned = re.sub(r"[\s\-().]", "", raw or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    return cleaned


def validate_callback_number(raw: str, countries: Collection[str] | None = None) -> str:
    """Return the E.164 form of `raw`, or raise BadNumber. `countries` (ISO codes) are the
    only ones allowed; None allows any country (the type checks still apply)."""
    number = _e164(raw)
    parsed = phonenumbers.parse(number, None)
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(f"{raw!r} is not a valid number in its country's numbering plan; "
                        "check the digits", kind="invalid")
    region = phonenumbers.region_code_for_number(parsed)
    kind = "satellite" if region == NON_GEOGRAPHIC else REFUSED_TYPES.get(
        phonenumbers.number_type(parsed))
    if kind:
        raise BadNumber(f"{raw!r} is {_WHY[kind]}; callbacks go to ordinary numbers only",
                        kind=kind)
    if countries is not None and region not in countries:
        raise BadNumber(f"{raw!r} is a number in {region}; callbacks go to "
                        f"{', '.join(sorted(countries)) or 'no country'} only",
                        Refusal.COUNTRY, kind="country")
    return number


def _e164(raw: str) -> str:
    """The `+digits` form, or BadNumber(kind=invalid) for short numbers and non-E.164."""
    number = normalise_number(raw)
    digits = number.lstrip("+")
    if digits.isdigit() and len(digits) < 8:
        raise BadNumber(f"{raw!r} is a short number; give a full number with country code")
    if not _E164.match(number):
        raise BadNumber(f"{raw!r} is not an E.164 number; give it as + country code and "
                        "number, e.g. +14155550100")
    return number


def keyed_number(digits: str, region: str) -> str:
    """A number keyed on a phone (no `+` key) as E.164, read the way a phone in `region`
    dials: its international prefix (011 in North America, 00 elsewhere; 00 is accepted
    everywhere) starts a number abroad, anything else is a national number with or without
    its trunk prefix (1 in North America, 0 in most of Europe). "" when it cannot be read;
    the result still goes through `validate_callback_number`."""
    keyed = "".join(ch for ch in digits if ch.isdigit())
    if keyed.startswith("00"):
        keyed = "+" + keyed[2:]
    try:
        parsed = phonenumbers.parse(keyed, region)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def from_keypad(digits: str, country_code: str = "1") -> str:
    """The digits-to-E.164 rule `canonical_number` stores callers under: `00` or `011`
    starts an international number; a North American caller keys 10 digits (or 1 + 10);
    elsewhere the national number gets `country_code` in front. Kept as it is so stored
    caller keys do not change; callback numbers keyed by callers use `keyed_number`."""
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
    if raw and raw[0] == "+" and raw[1:].isdigit():
        return raw  # already E.164, as Twilio sends From: what the steps below would give
    cleaned = normalise_number(raw)
    digits = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not digits.isdigit():
        return (raw or "").strip()
    return cleaned if cleaned.startswith("+") else from_keypad(cleaned, country_code)
