"""One way to turn `REDIS_URL` into a client, for every process (web, worker, commands).

Plain URLs (`redis://`, `rediss://`, `unix://`) go to redis-py's `from_url` unchanged. A
Sentinel deployment is named with `redis+sentinel://` (also `rediss+sentinel://` for TLS to the
data nodes):

    redis+sentinel://[:password@]host:26379[,host2:26379,...]/service[/db][?sentinel_password=..]

The client then asks the sentinels which server is the primary of `service` and follows a
failover by itself: a connection to a demoted primary is dropped and the next command goes to
the new one (redis-py's `SentinelConnectionPool`). The scripts survive it: redis-py reloads a
script the new primary does not know, and so does our pipelined call start
(`CallStateStore`). tests/e2e/test_redis_sentinel.py runs a real primary, replica and
sentinel, fails over and checks that calls, scripts and RQ's scheduler carry on.

Every client gets a bounded pool (issue 12): at most `max_connections` connections
(IVR_REDIS_MAX_CONNECTIONS), and a thread that finds them all busy waits up to `pool_timeout`
seconds (IVR_REDIS_POOL_TIMEOUT) for one to come back instead of failing at once, which is what
redis-py's default pool does ("Too many connections", at 100). `client_name` names the
connections in Redis's CLIENT LIST (`process_client_name`), so the connections of each
process can be counted (`ivr bench soak`, tests/web/test_connection_bounds.py).
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

import redis
from redis.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
PRIMARY_RECHECK_S = 1.0
MAX_CONNECTIONS = 50  # per client (process): IVR_REDIS_MAX_CONNECTIONS
POOL_TIMEOUT = 5.0  # seconds a thread waits for a free connection: IVR_REDIS_POOL_TIMEOUT


class RedisUrlError(ValueError):
    """A REDIS_URL that cannot name a server (said at startup, not at the first call)."""


def connect(url: str, *, max_connections: int = MAX_CONNECTIONS,
            pool_timeout: float = POOL_TIMEOUT, **options: Any) -> redis.Redis:
    """A client for `url` with a blocking pool of at most `max_connections`; `options`
    (socket_timeout, client_name, ...) apply to the data connections."""
    if urlsplit(url).scheme in SENTINEL_SCHEMES:
        return _sentinel_primary(url, max_connections, pool_timeout, options)
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections,
                                                 timeout=pool_timeout, **options)
    return redis.Redis.from_pool(pool)  # as from_url: the client owns (and closes) its pool


def process_client_name(role: str) -> str:
    """`ivr-<role>-<pid>`: what CLIENT LIST shows for this process's connections."""
    return f"ivr-{role}-{os.getpid()}"


def check_url(url: str) -> None:
    """Raise RedisUrlError if `url` cannot name a server (checked when the config loads).
    The message shows the URL with its passwords masked (`masked_url`): it reaches logs."""
    scheme = urlsplit(url).scheme
    if scheme in SENTINEL_SCHEMES:
        parse_sentinel_url(url)
    elif scheme not in ("redis", "rediss", "unix"):
        raise RedisUrlError(f"REDIS_URL={masked_url(url)!r}: the scheme must be redis://, "
                            "rediss://, unix:// or redis+sentinel://")
    else:
        try:
            redis.connection.parse_url(url)
        except ValueError as exc:
            raise RedisUrlError(f"REDIS_URL={masked_url(url)!r}: {exc}") from None


SECRET_QUERY = frozenset({"password", "sentinel_password"})


def masked_url(url: str) -> str:
    """`url` with every password replaced by `***` (`redis://:***@host:6379/0`), so an error
    about it can be logged and shown (issue 12, item 7d). A user name alone is masked too:
    `redis://secret@host` is how some providers put a token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<REDIS_URL not shown: it does not parse as a URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hosts}" if colon else f"***@{hosts}"
    query = urlencode([(k, "***" if k in SECRET_QUERY else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    # built by hand: urlunsplit drops the empty host of unix:///path
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any],
                                          dict[str, Any]]:
    """(sentinels, service, data-node options, sentinel options) from a sentinel URL."""
    parts = urlsplit(url)
    sentinels = _sentinel_hosts(parts.netloc.rsplit("@", 1)[-1])
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path:
        raise RedisUrlError("REDIS_URL: a sentinel URL names at least one sentinel and the "
                            "service, as redis+sentinel://host:26379/mymaster[/db]")
    data: dict[str, Any] = {}
    if len(path) > 1:
        if not path[1].isdigit():
            raise RedisUrlError(f"REDIS_URL: database {path[1]!r} is not a number")
        data["db"] = int(path[1])
    if "@" in parts.netloc:
        user, _, password = parts.netloc.rsplit("@", 1)[0].partition(":")
        if user:
            data["username"] = unquote(user)
        if password:
            data["password"] = unquote(password)
    if parts.scheme.startswith("rediss"):
        data["ssl"] = True
    query = parse_qs(parts.query)
    sentinel: dict[str, Any] = {}
    if "sentinel_password" in query:
        sentinel["password"] = query["sentinel_password"][0]
    return sentinels, path[0], data, sentinel


def _sentinel_hosts(hosts: str) -> list[tuple[str, int]]:
    found = []
    for item in filter(None, hosts.split(",")):
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "26379")
        try:
            found.append((host.strip("[]"), int(port)))
        except ValueError:
            raise RedisUrlError(f"REDIS_URL: sentinel {item!r} has no valid port") from None
    return found


class PrimaryWatchingPool(SentinelConnectionPool):
    """A sentinel pool that asks the sentinels, at most once a second when a connection is
    taken, which server is primary, and drops its pooled connections when that changed.

    redis-py alone asks only when it opens a new connection. After a planned failover the old
    primary keeps taking writes until the sentinel turns it into a replica (over 4 s here;
    tests/store/test_redis_connect.py), and the resync then throws those writes away: a
    quiet pool that keeps reusing its connections would write a caller's place in line there.
    The check costs one sentinel round trip per second per process."""

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)
        self._checked_at = 0.0

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if self.is_master and now - self._checked_at >= PRIMARY_RECHECK_S:
            self._checked_at = now
            try:
                self.get_master_address()  # resets the idle connections on a change
            except MasterNotFoundError:
                pass  # the connection's own connect says so, with redis-py's retries
        return super().get_connection(*args, **kwargs)


class BlockingPrimaryWatchingPool(PrimaryWatchingPool, redis.BlockingConnectionPool):
    """The sentinel pool above with redis-py's blocking pool's limit and wait: a thread that
    finds every connection busy waits up to `timeout` seconds (the method order puts the
    sentinel's primary checks first, then the blocking pool's checkout and release)."""


def _sentinel_primary(url: str, max_connections: int, pool_timeout: float,
                      options: dict[str, Any]) -> redis.Redis:
    sentinels, service, data, sentinel_options = parse_sentinel_url(url)
    timeout = options.get("socket_timeout")
    sentinel_options.setdefault("socket_timeout", timeout if timeout is not None else 2.0)
    manager = Sentinel(sentinels, sentinel_kwargs=sentinel_options)
    return manager.master_for(service, connection_pool_class=BlockingPrimaryWatchingPool,
                              max_connections=max_connections, timeout=pool_timeout,
                              **data, **options)
