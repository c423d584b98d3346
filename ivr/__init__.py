"""Phone IVR and call-center queue. This module holds only the app factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. `config` overrides settings read from the environment (tests pass
    `redis_url`, `dev_mode`, `twilio_auth_token`, ...). Connects to Redis and loads the flows
    here, not at import, so importing `ivr` has no side effects."""
    import logging

    # Imported here, not at the top: every `ivr` command imports this package, and importing
    # it must neither load the web app nor have side effects.
    from ivr.app.body_limits import CappedRequest
    from ivr.app.flow_publisher import converge_flows
    from ivr.app.services import build_services
    from ivr.config.log_format import install_masking
    from ivr.config.settings import from_env
    from ivr.outcomes.outgoing_numbers import check_fallback_number
    from ivr.web.pipeline import teardown
    from ivr.web.sessions import WebhookFreeSessions
    from ivr.web.webhook_lane import WebhookLane

    install_masking()  # before anything logs: no full phone number in any log
    settings = check_fallback_number(from_env().with_overrides(config or {}).validate())
    app = Flask(__name__, instance_path=str(settings.instance_dir.resolve()))
    app.request_class = CappedRequest  # a chunked body past the cap is refused, not cut
    app.config["IVR"] = settings
    app.config["SECRET_KEY"] = settings.secret_key or _process_dev_key()
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # every route; ivr/web/body_limits
    app.config["PROMPTS_AUDIO_DIR"] = str(settings.prompts_audio_dir)
    if settings.signing_token is None:
        logging.getLogger("ivr").warning(
            "DEVELOPMENT MODE: TWILIO_AUTH_TOKEN is unset, webhook signatures are NOT checked. "
            "Never expose this server to the internet."
        )
    app.session_interface = WebhookFreeSessions()
    app.extensions["ivr"] = build_services(settings)
    app.teardown_request(teardown)  # no Redis connection outlives the request
    app.before_request(converge_flows)  # flows published elsewhere, before any view runs
    _register_blueprints(app)
    if settings.proxy_hops:
        _trust_proxies(app, settings.proxy_hops)
    if settings.webhook_lane:  # IVR_WEBHOOK_LANE=0: every webhook through Flask
        app.wsgi_app = WebhookLane(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def _register_blueprints(app: Flask) -> None:
    """Every route the app serves: the web pages (dashboards/), then the webhooks and JSON
    APIs (ivr/web/). Imported here, not at the top: importing `ivr` (as every `ivr` command
    does) must not load the whole web app."""
    from dashboards import (
        admin_agents,
        admin_flows,
        admin_operations,
        admin_prompts,
        agent_console,
        agent_presence,
        assets,
        auth,
        callers_api,
        floor_api,
        recording_control,
        recordings,
        reports_api,
        softphone,
        staffing,
        standin_phone,
        wallboard,
        worklist,
    )
    from ivr.web import agents as agents_api
    from ivr.web import (
        client_calls,
        fallback,
        floor,
        floor_recording,
        health,
        metrics,
        prompts,
        queue,
        security_headers,
        sms,
        tasks,
        voice,
    )

    for blueprint in (
        admin_agents.bp,
        admin_flows.bp,
        admin_operations.bp,
        admin_prompts.bp,
        agent_console.bp,
        agent_presence.bp,
        assets.bp,
        assets.sounds_bp,
        auth.bp,
        callers_api.bp,
        floor_api.bp,
        recording_control.bp,
        recordings.bp,
        reports_api.bp,
        softphone.bp,
        staffing.bp,
        standin_phone.bp,
        wallboard.bp,
        worklist.bp,
        agents_api.bp,
        client_calls.bp,
        fallback.bp,
        floor.bp,
        floor_recording.bp,
        health.bp,
        metrics.bp,
        prompts.bp,
        queue.bp,
        security_headers.bp,
        sms.bp,
        tasks.bp,
        voice.bp,
    ):
        app.register_blueprint(blueprint)


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` proxies (IVR_PROXY_HOPS), take the client's address and scheme from the
    X-Forwarded-For/-Proto entries those proxies added, and nothing further left (a client
    can send its own). Only the address and scheme: Twilio's signatures are still checked
    against PUBLIC_BASE_URL (ivr/phone/twilio_auth.py), never a forwarded host. Inside the webhook
    lane, which does not read either, so the busiest webhooks skip it."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _process_dev_key() -> str:
    """Development mode without SECRET_KEY and without `ivr serve` or gunicorn.conf.py to
    share one (ivr/config/startup.py): a random key for this process alone."""
    import logging
    import secrets

    logging.getLogger("ivr").warning(
        "DEVELOPMENT MODE: SECRET_KEY is unset; page sessions use a random key of this "
        "process only")
    return secrets.token_urlsafe(48)
