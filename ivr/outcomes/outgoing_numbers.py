"""Which numbers the product may text (follow-up SMS, SMS surveys) or dial outside the callback
dialogue: the toll-fraud policy of the callbacks (ivr/domain/phone_numbers.py) applied to
the caller's number, which a caller can spoof to a premium-rate or foreign number, and to
IVR_FALLBACK_NUMBER, which every caller is dialled to when a webhook fails: a premium-rate
or foreign number set there by mistake (or by someone with access to the environment) would
be called at the business's expense, so `ivr check` and the app's start refuse it.

The countries are every country some queue calls back (queues.yaml `callback.countries`,
defaulting to the business's country); without queues.yaml, the business's country (that of
IVR_CALLER_ID, else US). Reads queues.yaml once, when a web process or worker starts.
"""

from __future__ import annotations

from ivr.config.queue_callbacks import DEFAULT_COUNTRY
from ivr.config.queues import load_queues
from ivr.config.settings import Config
from ivr.domain.errors import ConfigError
from ivr.domain.phone_numbers import BadNumber, country_of, validate_callback_number


def outgoing_countries(config: Config) -> frozenset[str]:
    if config.queues_file.exists():
        return load_queues(config.queues_file, config.caller_id or None).callback_countries
    return home_countries(config)


def home_countries(config: Config) -> frozenset[str]:
    """Without queues.yaml: the business's country, that of IVR_CALLER_ID (else US)."""
    return frozenset({country_of(config.caller_id or "") or DEFAULT_COUNTRY})


def refusal(number: str, countries: frozenset[str]) -> BadNumber | None:
    """Why `number` must not be texted (premium, satellite, abroad ...), or None."""
    try:
        validate_callback_number(number, countries)
    except BadNumber as exc:
        return exc
    return None


def fallback_number_problem(number: str | None, countries: frozenset[str]) -> str | None:
    """Why IVR_FALLBACK_NUMBER (`number`) may not be dialled; None when it is unset or passes
    the callbacks' rules for `countries`."""
    why = refusal(number, countries) if number else None
    if why is None:
        return None
    return (f"{why} (the fallback route is held to the callbacks' toll-fraud rules: give an "
            f"ordinary number in {', '.join(sorted(countries))}, or unset it for the fallback "
            "queue)")


def check_fallback_number(config: Config) -> Config:
    """`config`, or ConfigError naming IVR_FALLBACK_NUMBER when it fails the callbacks' rules
    for the countries the queues call back (the app refuses to start)."""
    if config.fallback_number:
        problem = fallback_number_problem(config.fallback_number, outgoing_countries(config))
        if problem:
            raise ConfigError(f"IVR_FALLBACK_NUMBER: {problem}")
    return config
