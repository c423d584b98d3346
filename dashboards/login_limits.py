"""Sign-in attempts, limited per client and per (client, user name) (issue 12, item 3).

Why this shape:
- Counted before the password is checked, atomically (one Lua script: INCR, and EXPIRE when
  the window starts): of N attempts sent at once, only the first `max_per_user` get a
  password hash; the rest get 429 without one. The old read-then-check-then-count let every
  parallel attempt through.
- Keyed by the client (the address ProxyFix trusts, IVR_PROXY_HOPS) and never by the user
  name alone: five wrong passwords from one client lock that client out of that name, not
  the name for everybody (behind the TLS proxy every client used to share one address, so
  anyone could lock `admin` out). A client also has a budget over all names
  (`max_per_client`), so it cannot try a password on every name instead.
- IPv6 clients are counted by /64, what one subscriber usually gets: changing the low bits
  must not buy new attempts.
- A successful sign-in clears the (client, user) count and gives back its unit of the
  client's budget: a whole office behind one address signs in every morning.

Redis keys: ivr/store/keys.py `login_attempts`. Must not import Flask request globals.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import redis

from ivr.store import keys

COUNT = """
-- KEYS[1] attempts of this client for this user name  KEYS[2] attempts of this client
-- ARGV[1] window seconds
-- Counts one attempt in both; returns {count for the name, count for the client}, this one in.
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 or redis.call('TTL', key) < 0 then
    redis.call('EXPIRE', key, ARGV[1])
  end
end
return counts
"""

SETTLE = """
-- KEYS[1] attempts of this client for this user name  KEYS[2] attempts of this client
-- The attempt signed in: forget the name's count, give back its unit of the client's.
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) and tonumber(redis.call('GET', KEYS[2])) > 0 then
  redis.call('DECR', KEYS[2])
end
return 1
"""


@dataclass(frozen=True)
class LoginLimits:
    """Attempts allowed within `window` seconds: per (client, user name), and per client."""

    window: int = 300
    max_per_user: int = 5
    max_per_client: int = 30


def client_id(remote_addr: str | None) -> str:
    """What a client is counted as: its address, an IPv6 one by its /64."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return remote_addr or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginAttempts:
    """Counts and settles sign-in attempts of one (client, user name) pair."""

    def __init__(self, conn: redis.Redis, limits: LoginLimits, client: str,
                 username: str) -> None:
        self.limits = limits
        self.keys = [keys.login_attempts(client, username[:64]), keys.login_attempts(client)]
        self._count, self._settle = conn.register_script(COUNT), conn.register_script(SETTLE)

    def admit(self) -> bool:
        """Count this attempt; True when it is within both limits and may check a password."""
        per_user, per_client = (int(n) for n in self._count(
            keys=self.keys, args=[self.limits.window]))
        return per_user <= self.limits.max_per_user and per_client <= self.limits.max_per_client

    def succeeded(self) -> None:
        self._settle(keys=self.keys)
