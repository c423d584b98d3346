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

# Defaults live with the variables in ivr/config/settings.py: IVR_STREAM_MAX_CLIENTS 300 (a
# few hundred screens, each a socket and a little memory), IVR_STREAM_RECHECK 15 s (a revoked
# session loses the board within this long), IVR_STREAM_AUTH_THREADS 2 (one indexed lookup
# each), IVR_STREAM_SECONDS 300 s (a stream's life: the browser then reconnects, which spreads
# screens over restarted or added stream processes).
RETRY_AFTER = 10  # seconds a client over the cap is told to wait
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class StreamSettings:
    max_clients: int
    recheck_seconds: float
    auth_threads: int
    origins: frozenset[str] = frozenset()
    stream_seconds: float = 300.0


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


def stream_settings(config: Config) -> StreamSettings:
    """Settings from `config` (typed and bounded by `from_env`); an origin in IVR_WEB_ORIGINS
    that is not http(s) raises ConfigError naming it."""
    extra = [o for o in config.web_origins.split(",") if o.strip()]
    return StreamSettings(
        max_clients=config.stream_max_clients, recheck_seconds=config.stream_recheck,
        auth_threads=config.stream_auth_threads, stream_seconds=config.stream_seconds,
        origins=frozenset([origin_of(config.public_base_url), *map(origin_of, extra)]),
    )
