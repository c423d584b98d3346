"""`ivr streams`: the stream service (the wallboard's live events), a process apart from the
web server so that open wall screens never hold a thread a Twilio webhook needs (ivr/live/).

`ivr serve` starts it beside itself by default (on its port + 1); run it yourself, with
`ivr serve --no-streams`, where a process supervisor or compose runs each part on its own.
It reads the same settings as the web app (REDIS_URL, DATABASE_URL, SECRET_KEY, ...): it
checks the pages' session cookies with the same secret and reads the same Redis and database.
"""

from __future__ import annotations

import click


@click.command("streams")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--parent-pid", type=int, default=None, hidden=True,
              help="Stop when this process is no longer the parent (set by ivr serve).")
def command(host: str, port: int, parent_pid: int | None) -> None:
    """Serve the wallboard's live events (GET /wallboard/events) to signed-in supervisors."""
    from ivr import create_app
    from ivr.config.log_format import configure_from_env
    from ivr.config.startup import require_secret_key
    from ivr.live.running import run_streams
    from ivr.live.server import build_stream_app
    from ivr.live.settings import stream_settings

    # the web app's SECRET_KEY: this service opens the pages' session cookies (`ivr serve`
    # passes its own, a shared random one in development mode)
    configure_from_env(require_secret_key())
    flask_app = create_app()
    settings = stream_settings(flask_app.config["IVR"])
    app = build_stream_app(flask_app, settings)

    def ready(bound: int) -> None:
        click.echo(f"ivr streams: serving on http://{host}:{bound}  (GET /wallboard/events; "
                   f"at most {settings.max_clients} streams; pages from "
                   f"{', '.join(sorted(settings.origins))})")

    run_streams(app, host, port, parent_pid=parent_pid, on_ready=ready)
