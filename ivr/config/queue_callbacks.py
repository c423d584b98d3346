"""The toll-fraud settings of queues.yaml: a queue's `callback:` section and the top-level
`business:` section, checked with FILE:LINE (ivr/config/yaml_lines.py) by `ivr check` and at start.

    business:
      country: US            # ISO 3166 code of the business's own country
    queues:
      support:
        callback: {enabled: true, mode: agent_first, retries: 2, retry_delay: 300,
                   ring_timeout: 25, countries: [US, CA], max_per_number_per_day: 3}

`countries` are the only countries a callback (and a follow-up text) may go to; omitted, the
business's country alone. An agent's phone (`agents:`, an `address` that is a number, not
`client:` or `sip:`) and IVR_FALLBACK_NUMBER are rung under the same rules, for every country
some queue calls back (`agent_address_problem`; ivr/outcomes/outgoing_numbers.py): a
premium-rate, personal or foreign number in the file would make the business pay for every
call routed to it. The business's country is `business.country`, else the country of
the number callbacks are placed from (IVR_CALLER_ID, passed in by the caller of
`load_queues`), else US. `max_per_number_per_day`: callbacks one number may take part in (as
the caller asking or as the number called) in 24 hours; the store counts them in Redis
(ivr/store/callback_limits.py). Reads no files and no environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.config.yaml_lines import YamlLines
from ivr.domain.errors import ConfigError
from ivr.domain.phone_numbers import BadNumber, country_of, is_country, validate_callback_number
from ivr.domain.queueing import CallbackSettings

CALLBACK_MODES = ("agent_first", "customer_first")
CALLBACK_KEYS = ("enabled", "mode", "retries", "retry_delay", "ring_timeout", "countries",
                 "max_per_number_per_day")
DEFAULT_COUNTRY = "US"  # the stand-in's and Twilio's test caller ID (+1 500 555 0006) is US
DEFAULT_MAX_PER_DAY = 3


def business_country(data: Mapping[str, Any], source: str, lines: YamlLines,
                     caller_id: str | None = None) -> str:
    """`business.country`, else the country of `caller_id`, else US."""
    business = data.get("business")
    if business is None:
        return country_of(caller_id or "") or DEFAULT_COUNTRY
    where = lines.where(source, "business")
    if not isinstance(business, Mapping):
        raise ConfigError(f"{where}: `business:` must be a mapping, e.g. "
                          "`business: {country: US}`")
    unknown = sorted(str(k) for k in set(business) - {"country"})
    if unknown:
        raise ConfigError(f"{lines.where(source, 'business', unknown[0], key=True)}: unknown "
                          f"business setting(s) {unknown}; use `country`")
    return _country(business.get("country"), lines.where(source, "business", "country"),
                    "business country")


def parse_callback(name: str, spec: Any, source: str, lines: YamlLines,
                   home: str) -> CallbackSettings:
    """A queue's `callback:` section; `home` is the business's country (the default list)."""
    path = ("queues", name, "callback")
    where = f"{lines.where(source, *path)}: queue {name!r} callback"
    spec = spec or {}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where} must be a mapping, e.g. `callback: {{enabled: true}}`")
    unknown = sorted(str(k) for k in set(spec) - set(CALLBACK_KEYS))
    if unknown:
        raise ConfigError(f"{lines.where(source, *path, unknown[0], key=True)}: queue "
                          f"{name!r} callback: unknown setting(s) {unknown}; use "
                          f"{list(CALLBACK_KEYS)}")
    mode = str(spec.get("mode", "agent_first"))
    if mode not in CALLBACK_MODES:
        raise ConfigError(f"{where}: mode {mode!r} must be one of {CALLBACK_MODES}")
    return CallbackSettings(
        enabled=bool(spec.get("enabled", True)), mode=mode,
        retries=int(spec.get("retries", 2)), retry_delay=float(spec.get("retry_delay", 300)),
        ring_timeout=int(spec.get("ring_timeout", 25)),
        countries=_countries(spec.get("countries"), source, lines, path, home), home=home,
        max_per_number_per_day=_limit(spec.get("max_per_number_per_day", DEFAULT_MAX_PER_DAY),
                                      f"{lines.where(source, *path, 'max_per_number_per_day')}"
                                      f": queue {name!r} callback"))


def agent_address_problem(address: str, countries: frozenset[str]) -> str | None:
    """Why an agent's `address` may not be rung, or None: a number must pass the callbacks'
    toll-fraud rules (ivr/domain/phone_numbers.py) for `countries`; a softphone (`client:`)
    or SIP address is not a phone number."""
    if address.startswith(("client:", "sip:")):
        return None
    try:
        validate_callback_number(address, countries)
    except BadNumber as exc:
        return (f"{exc} (an agent's phone is rung under the callbacks' toll-fraud rules: "
                f"give an ordinary number in {', '.join(sorted(countries))}, or client:NAME)")
    return None


def _countries(raw: Any, source: str, lines: YamlLines, path: tuple[str, ...],
               home: str) -> frozenset[str]:
    if raw is None:
        return frozenset({home})
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{lines.where(source, *path, 'countries')}: callback countries "
                          "must be a list of ISO 3166 codes, e.g. `countries: [US, CA]`")
    return frozenset(_country(code, lines.where(source, *path, "countries", i),
                              f"queue {path[1]!r} callback country")
                     for i, code in enumerate(raw))


def _country(code: Any, where: str, what: str) -> str:
    if isinstance(code, bool):  # YAML 1.1 reads NO (Norway) as false and ON as true
        raise ConfigError(f"{where}: {what} {code!r} is read as a boolean by YAML; quote the "
                          "code, e.g. 'NO'")
    text = str(code or "").strip().upper()
    if not is_country(text):
        raise ConfigError(f"{where}: {what} {code!r} is not an ISO 3166 country code with a "
                          "numbering plan; use two letters such as US, CA, GB (not UK)")
    return text


def _limit(value: Any, where: str) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if isinstance(value, bool) or limit < 1 or str(limit) != str(value).strip():
        raise ConfigError(f"{where}: max_per_number_per_day {value!r} must be a whole number "
                          "of callbacks, 1 or more")
    return limit
