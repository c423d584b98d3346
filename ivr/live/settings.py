"""The stream service's settings, read from `Config` (ivr/config/settings.py lists the variables).

Every budget of the stream process is named here and bounded: how many streams may be open
at once (`IVR_STREAM_MAX_CLIENTS`; one more gets 503 with Retry-After), how often an open
stream's session is checked again (`IVR_STREAM_RECHECK`, so a revoked or downgraded sign-in
loses the board within that many seconds), and how many threads check sessions
(`IVR_STREAM_AUTH_THREADS`; the board itself is computed by exactly one thread). The page
origins allowed to read a stream with credentials (CORS) are PUBLIC_BASE_URL's and those in
`IVR_WEB_ORIGINS`: never `*`, since the stream carries the signed-in supervisor's board.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ivr.config.settings import Config
from ivr.domain.errors import ConfigError

MAX_CLIENTS = 300  # a few hundred screens: each is a socket and a little memory
RECHECK_SECONDS = 15.0  # a revoked session loses the board within this long
AUTH_THREADS = 2  # session checks are one indexed user lookup each
RETRY_AFTER = 10  # seconds a client over the cap is told to wait
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class StreamSettings:
    max_clients: int = MAX_CLIENTS
    recheck_seconds: float = RECHECK_SECONDS
    auth_threads: int = AUTH_THREADS
    origins: frozenset[str] = frozenset()


def origin_of(url: str) -> str:
    """The origin a browser sends for pages under `url` (`Origin:` header form): scheme, host
    and a port only when it is not the scheme's default; lower case, no path."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http:// or https:// origin")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    return f"{parts.scheme}://{host}" + (
        f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else "")


def _number(config: Config, key: str, variable: str, default: float, whole: bool) -> float:
    raw = config.extra.get(key, default)
    try:
        value = int(raw) if whole else float(raw)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        kind = "a whole number" if whole else "a number of seconds"
        raise ConfigError(f"{variable}={raw!r} must be {kind} above 0")
    return value


def stream_settings(config: Config) -> StreamSettings:
    """Settings from `config` (its `extra`, as `from_env` reads them); a bad value raises
    ConfigError naming the variable."""
    extra = [o for o in str(config.extra.get("web_origins", "")).split(",") if o.strip()]
    return StreamSettings(
        max_clients=int(_number(config, "stream_max_clients", "IVR_STREAM_MAX_CLIENTS",
                                MAX_CLIENTS, whole=True)),
        recheck_seconds=_number(config, "stream_recheck", "IVR_STREAM_RECHECK",
                                RECHECK_SECONDS, whole=False),
        auth_threads=int(_number(config, "stream_auth_threads", "IVR_STREAM_AUTH_THREADS",
                                 AUTH_THREADS, whole=True)),
        origins=frozenset([origin_of(config.public_base_url), *map(origin_of, extra)]),
    )
