"""Which numbers the product may text (follow-up SMS, SMS surveys) outside the callback
dialogue: the toll-fraud policy of the callbacks (ivr/domain/phone_numbers.py) applied to
the caller's number, which a caller can spoof to a premium-rate or foreign number.

The countries are every country some queue calls back (queues.yaml `callback.countries`,
defaulting to the business's country); without queues.yaml, the business's country (that of
IVR_CALLER_ID, else US). Reads queues.yaml once, when a web process or worker starts.
"""

from __future__ import annotations

from ivr.config.queue_callbacks import DEFAULT_COUNTRY
from ivr.config.queues import load_queues
from ivr.config.settings import Config
from ivr.domain.phone_numbers import BadNumber, country_of, validate_callback_number


def outgoing_countries(config: Config) -> frozenset[str]:
    caller_id = config.caller_id or ""
    if config.queues_file.exists():
        return load_queues(config.queues_file, caller_id or None).callback_countries
    return frozenset({country_of(caller_id) or DEFAULT_COUNTRY})


def refusal(number: str, countries: frozenset[str]) -> BadNumber | None:
    """Why `number` must not be texted (premium, satellite, abroad ...), or None."""
    try:
        validate_callback_number(number, countries)
    except BadNumber as exc:
        return exc
    return None
