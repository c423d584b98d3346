"""`ivr twilio-standin`: run the local Twilio stand-in (see devkit/twilio_standin/standin.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ivr.commands._devkit import require_devkit


def parse_callees(values: tuple[str, ...]) -> dict[str, str]:
    callees = {}
    for value in values:
        number, _, behaviour = value.partition("=")
        if behaviour not in ("answer", "no-answer", "busy", "failed"):
            raise click.BadParameter(f"{value!r}: use NUMBER=answer|no-answer|busy|failed")
        callees[number] = behaviour
    return callees


def _setting(name: str) -> Callable[[], Any]:
    """A click default read from the settings when the command runs (imported then, not at
    CLI start: every command module is imported for `ivr --help`)."""
    def read() -> Any:
        from ivr.config.settings import from_env

        return getattr(from_env(), name)

    return read


@click.command("twilio-standin")
@click.option("--port", default=8081, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--app-url", default="http://127.0.0.1:5000", show_default=True,
              help="Where the app's webhooks are (its public base URL).")
@click.option("--token", default=_setting("twilio_auth_token"),
              help="Auth token to sign webhooks with [env TWILIO_AUTH_TOKEN].")
@click.option("--account-sid", default=_setting("twilio_account_sid"))
@click.option("--speed", default=1.0, show_default=True,
              help="Clock speed of hold loops and pauses (10: ten times faster).")
@click.option("--callee", multiple=True, help="NUMBER=answer|no-answer|busy|failed")
@click.option("--fallback-path", default=None,
              help="The number's VoiceFallbackUrl on the app, e.g. /voice/fallback (unset: a "
                   "failed webhook ends the call, as on a number without one).")
@click.option("--threads", default=_setting("standin_threads"), type=click.IntRange(min=1),
              help="Request threads at most [env IVR_STANDIN_THREADS; default 32].")
def command(port: int, host: str, app_url: str, token: str | None, account_sid: str | None,
            speed: float, callee: tuple[str, ...], fallback_path: str | None,
            threads: int) -> None:
    """Run the Twilio stand-in: REST API for the app, webhooks to the app, /sim for tests."""
    require_devkit()
    # The stand-in is developer tooling (devkit/), left out of a production image.
    from devkit.twilio_standin.clock import RealClock
    from devkit.twilio_standin.leg import DEV_ACCOUNT_SID
    from devkit.twilio_standin.standin import make_standin_server
    from devkit.twilio_standin.standin_state import StandIn, StandInConfig

    config = StandInConfig(app_url=app_url.rstrip("/"), auth_token=token,
                           account_sid=account_sid or DEV_ACCOUNT_SID,
                           api_base=f"http://{host}:{port}", callees=parse_callees(callee),
                           clock=lambda: RealClock(speed), fallback_path=fallback_path)
    server = make_standin_server(StandIn(config), host, port, threads)
    click.echo(f"Twilio stand-in on http://{host}:{port} -> app {app_url}"
               f" ({'signed' if token else 'UNSIGNED'} webhooks, {threads} threads)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
