"""The daily limit on callbacks per number (toll fraud, issue 12): one number may take part in
at most `max_per_number_per_day` callbacks in any 24 hours, as the caller who asks or as the
number called back. Counting both stops one caller booking calls to many numbers and many
callers (or one caller spoofing many caller IDs) booking calls to one revenue-share number.

Counted atomically in Redis (scripts/callback_quota.lua): a sorted set per number of
callback tokens scored by time, trimmed to the window and expiring with it, so a day's count
needs no clean-up job and survives a restart of the web process. The check and the count are
one script, so two requests racing at the limit cannot both pass. A request that ends up
storing no new callback (merged into the pending one, or the caller is being connected) is
given back. Must not import Flask, RQ or Twilio.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import redis

from ivr.domain.phone_numbers import BadNumber, Refusal
from ivr.store import keys
from ivr.store.scripts import SCRIPT_DIR

WINDOW_SECONDS = 86_400


class CallbackQuota:
    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn
        self.script = conn.register_script((SCRIPT_DIR / "callback_quota.lua").read_text())

    def take(self, numbers: Sequence[str], now: float, limit: int) -> str:
        """Count a callback for every one of `numbers` (E.164, duplicates ignored); returns
        the token to `give_back`. Raises BadNumber(TOO_MANY) naming the number at its limit."""
        unique = list(dict.fromkeys(n for n in numbers if n))
        token = uuid.uuid4().hex
        full = int(self.script(keys=[keys.callback_quota(n) for n in unique],
                               args=[int(now * 1000), WINDOW_SECONDS * 1000, limit, token]))
        if full:
            raise BadNumber(f"{unique[full - 1]} already has {limit} callbacks in the last "
                            "24 hours; the caller may keep holding", Refusal.TOO_MANY,
                            kind="too_many")
        return token

    def give_back(self, numbers: Sequence[str], token: str) -> None:
        pipe = self.conn.pipeline(transaction=True)
        for number in dict.fromkeys(n for n in numbers if n):
            pipe.zrem(keys.callback_quota(number), token)
        pipe.execute()

    def used(self, number: str, now: float) -> int:
        """Callbacks `number` took part in within the last 24 hours (for tests and support)."""
        return int(self.conn.zcount(keys.callback_quota(number),
                                    f"({int((now - WINDOW_SECONDS) * 1000)}", "+inf"))
