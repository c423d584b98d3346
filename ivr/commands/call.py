"""`ivr call`: play one phone call against the IVR and print what happened.

Where the call goes, in order:
1. `--in-process`: `ivr.create_app()` through the Flask test client (no server needed);
2. a running Twilio stand-in (`--standin URL` or env TWILIO_API_BASE, unless `--direct`): the
   stand-in places the call (POST /sim/calls) and this command streams its transcript, so REST
   updates from the app (bridging to an agent) reach the call;
3. otherwise straight to the server at URL over HTTP, with simulated time.

Exit code 0 when the call completed without an application error, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ivr.commands._devkit import require_devkit

if TYPE_CHECKING:
    from devkit.twilio_standin.script import Script, ScriptStep

# The caller's side of a call is the Twilio stand-in's (devkit/), imported in each function:
# developer tooling that a production image leaves out, so the CLI starts without it.

DEFAULT_URL = "http://127.0.0.1:5000"


def build_script(press: str, say: tuple[str, ...], script: str) -> Script:
    from devkit.twilio_standin.script import Script, ScriptError, ScriptStep  # devkit: see top

    steps = [ScriptStep("press", keys.strip()) for keys in press.split(",") if keys.strip()]
    steps += [ScriptStep("say", text) for text in say]
    try:
        return Script(steps + Script.parse(script).steps)
    except ScriptError as exc:
        raise click.BadParameter(str(exc)) from exc


def ask_caller(need: str) -> ScriptStep | None:
    """Interactive: what the caller does at a Gather or Record (EOF hangs up)."""
    from devkit.twilio_standin.script import ScriptError, ScriptStep, parse_step  # devkit: see top

    try:
        answer = input(f"  [{need}] keys, \"words\", wait N, hangup > ").strip()
    except EOFError:
        return ScriptStep("hangup")
    if not answer:
        return ScriptStep("wait", count=5)
    if set(answer) <= set("0123456789*#"):
        return ScriptStep("press", answer)
    try:
        return parse_step(answer)
    except ScriptError:
        return ScriptStep("say", answer.strip('"'))


def run_leg(url: str, transport: object, script: Script, token: str | None,
            from_: str, to: str) -> bool:
    from devkit.twilio_standin.leg import CallLeg  # devkit: see top

    leg = CallLeg(url, transport, script, auth_token=token, from_=from_, to=to)  # type: ignore[arg-type]
    leg.transcript.listeners.append(lambda event: click.echo(event.line()))
    transcript = leg.run()
    return transcript.ok


def call_in_process(script: Script, token: str | None, from_: str, to: str) -> bool:
    import secrets

    from devkit.twilio_standin.transport import FlaskTransport
    from ivr import create_app  # lazily: the app factory pulls in Redis, flows, ...
    from ivr.config.settings import from_env

    # In-process nothing crosses a network: with no token configured, sign with a throwaway
    # one rather than switching signature checks off.
    overrides = {} if from_env().twilio_auth_token or token else {
        "twilio_auth_token": secrets.token_hex(16)}
    if token:
        overrides["twilio_auth_token"] = token
    if not from_env().secret_key:
        overrides["secret_key"] = secrets.token_urlsafe(48)  # no pages served: any key will do
    app = create_app(overrides)
    settings = app.config.get("IVR")
    base = getattr(settings, "public_base_url", DEFAULT_URL)
    token = token or getattr(settings, "signing_token", None)
    try:
        return run_leg(base, FlaskTransport(app), script, token, from_, to)
    finally:
        embedded = getattr(app.extensions.get("ivr"), "embedded", None)
        if embedded is not None:
            embedded.stop()  # only if this command started it: leave no process behind


def via_standin(standin: str, script: Script, from_: str, to: str) -> bool:
    from devkit.twilio_standin.standin_state import TERMINAL  # devkit: see top

    body = json.dumps({"from": from_, "to": to, "script": "; ".join(map(str, script.steps))})
    request = urllib.request.Request(f"{standin}/sim/calls", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        sid = json.load(resp)["sid"]
    click.echo(f"stand-in {standin} placed call {sid}")
    shown = 0
    while True:
        with urllib.request.urlopen(f"{standin}/sim/calls/{sid}", timeout=10) as resp:
            state = json.load(resp)
        for event in state["transcript"][shown:]:
            click.echo(f"[{event['at']:7.1f}s] {event['who']:>6} {event['kind']:<8} "
                       f"{event['text']}{' ' + event['url'] if event['url'] else ''}"
                       f"{' -> ' + str(event['status']) if event['status'] else ''}")
        shown = len(state["transcript"])
        if state.get("ended", state["status"] in TERMINAL):  # status callback answered too
            return bool(state["ok"])
        time.sleep(0.3)


def _setting(name: str) -> Callable[[], str | None]:
    """A click default read from the settings when the command runs (imported then, not at
    CLI start: every command module is imported for `ivr --help`)."""
    def read() -> str | None:
        from ivr.config.settings import from_env

        return getattr(from_env(), name)

    return read


@click.command("call")
@click.argument("url", default=DEFAULT_URL)
@click.option("--press", default="", help="Keys for successive Gathers, comma separated: 1,2")
@click.option("--say", multiple=True, help="Speech for a Gather (after the --press keys).")
@click.option("--script", default="", help='Steps: press 1; say "order status"; hold 3; hangup')
@click.option("--from", "from_", default="+15555550100", show_default=True)
@click.option("--to", default="+15555550199", show_default=True)
@click.option("--token", default=_setting("twilio_auth_token"),
              help="Auth token to sign webhooks with [env TWILIO_AUTH_TOKEN].")
@click.option("--in-process", is_flag=True, help="Run ivr.create_app() in this process.")
@click.option("--standin", default=_setting("twilio_api_base"),
              help="Twilio stand-in base URL [env TWILIO_API_BASE].")
@click.option("--direct", is_flag=True, help="Ignore the stand-in; call URL directly.")
def command(url: str, press: str, say: tuple[str, ...], script: str, from_: str, to: str,
            token: str | None, in_process: bool, standin: str | None, direct: bool) -> None:
    """Play one call against the IVR at URL and print the transcript."""
    require_devkit()
    steps = build_script(press, say, script)
    interactive = not steps.steps and sys.stdin.isatty()
    if interactive:
        steps.ask = ask_caller
    if in_process:
        ok = call_in_process(steps, token, from_, to)
    elif standin and not direct and not interactive:
        ok = via_standin(standin.rstrip("/"), steps, from_, to)
    else:
        from devkit.twilio_standin.transport import HttpTransport

        ok = run_leg(url, HttpTransport(), steps, token, from_, to)
    click.echo("call completed" if ok else "call had application errors")
    sys.exit(0 if ok else 1)
