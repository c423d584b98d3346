"""`ivr demo`: the whole product on one machine, on embedded defaults, in one command.

Starts (as child processes it owns): the embedded Redis when `REDIS_URL` is unset, the local
Twilio stand-in, the web server, the stream service (the wallboard's live events, on the web
port + 1: ivr/live/) and the RQ worker; then plays simulated callers through the demo flows.
Webhooks are signed even here: the demo makes a random auth token and gives it to both the
app and the stand-in, so the signature check runs exactly as in production. Ctrl-C (or
SIGTERM) stops every process it started, and nothing is left behind.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import click

from ivr.commands._devkit import require_devkit
from ivr.config.settings import DEV_ACCOUNT_SID, from_env
from ivr.store.embedded_redis import EmbeddedRedis


@dataclass
class Supervisor:
    """Starts child processes in their own process groups and stops them all on exit."""

    env: dict[str, str]
    log_dir: Path
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, *args: str) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ivr.commands.cli", *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.children.append((name, proc))

    def check(self) -> str | None:
        """The name of a child that died, if any."""
        for name, proc in self.children:
            if proc.poll() is not None:
                return name
        return None

    def stop(self) -> None:
        for _, proc in reversed(self.children):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 8
        for _, proc in self.children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # RQ runs each job in a work horse with a process group of its own: it outlives a
        # signal to the worker's group, so whatever is left of each child's session goes too.
        for _, proc in self.children:
            for pid in session_members(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def session_members(sid: int) -> list[int]:
    """Processes of session `sid` still running (Linux /proc; elsewhere none are found)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # state, ppid, pgrp, session
            found.append(int(entry))
    return found


def wait_for(url: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def demo_env(redis_url: str, port: int, standin_port: int, instance: Path,
             streams_port: int | None = None) -> dict[str, str]:
    config = from_env()
    env = dict(os.environ)  # the children's environment: this one, with the run's settings
    streams_port = streams_port or port + 1
    env.update({
        "REDIS_URL": redis_url,
        "IVR_INSTANCE_DIR": str(instance),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # the wallboard page opens its stream there; the stream service accepts the page
        "IVR_STREAM_URL": f"http://127.0.0.1:{streams_port}",
        "IVR_WEB_ORIGINS": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": config.twilio_account_sid or DEV_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": config.twilio_auth_token or secrets.token_hex(16),
        # One random session key for the web server, the worker and the user commands of
        # this run (a page session signed by one is read by the others); never a fixed one.
        "SECRET_KEY": config.secret_key or secrets.token_urlsafe(48),
        "TWILIO_API_BASE": f"http://127.0.0.1:{standin_port}",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--standin-port", default=8081, show_default=True, type=int)
@click.option("--streams-port", type=int, default=None,
              help="The stream service's port.  [default: --port + 1]")
@click.option("--callers/--no-callers", default=True, help="Play simulated callers.")
@click.option("--duration", default=0.0, help="Stop after this many seconds (0: until Ctrl-C).")
@click.option("--real-hours", is_flag=True,
              help="Keep the flows' business hours (default: the demo is always open).")
def command(port: int, standin_port: int, streams_port: int | None, callers: bool,
            duration: float, real_hours: bool) -> None:
    """Run server, worker, Twilio stand-in and simulated traffic on embedded defaults."""
    require_devkit()  # the stand-in (`ivr twilio-standin`) comes from devkit/
    config = from_env()
    instance = config.instance_dir.resolve()
    logs = instance / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    embedded = None
    redis_url = config.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(instance / "redis").start()
        redis_url = embedded.url
    streams_port = streams_port or port + 1
    env = demo_env(redis_url, port, standin_port, instance, streams_port)
    open_all_hours(redis_url, on=not real_hours)
    sup = Supervisor(env, logs)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    build_prompts(env, logs)
    logins = demo_logins(env, logs)
    try:
        sup.start("standin", "twilio-standin", "--port", str(standin_port),
                  "--app-url", f"http://127.0.0.1:{port}", "--token", env["TWILIO_AUTH_TOKEN"],
                  "--fallback-path", "/voice/fallback")  # as docs/deployment.md sets the number
        start_servers(sup, port, streams_port)
        if callers:
            sup.start("callers", "demo-traffic", "--standin", env["TWILIO_API_BASE"])
        print_banner(port, standin_port, logs, logins, streams_port)
        started = time.monotonic()
        while not stopping:
            dead = sup.check()
            if dead:
                click.echo(f"ivr demo: {dead} stopped unexpectedly; see {logs / (dead + '.log')}")
                break
            if duration and time.monotonic() - started > duration:
                break
            time.sleep(0.5)
    finally:
        click.echo("ivr demo: stopping everything it started ...")
        sup.stop()
        if embedded:
            embedded.stop()


def start_servers(sup: Supervisor, port: int, streams_port: int) -> None:
    """The web server, the stream service (its own child here, so its log and its death show
    like the others') and the worker; back when both servers answer."""
    sup.start("web", "serve", "--port", str(port), "--no-streams")
    sup.start("streams", "streams", "--port", str(streams_port))
    sup.start("worker", "worker")
    for name, at in (("web", port), ("streams", streams_port)):
        if not wait_for(f"http://127.0.0.1:{at}/healthz"):
            raise click.ClickException(f"the {name} server did not start; "
                                       f"see {sup.log_dir / (name + '.log')}")


def open_all_hours(redis_url: str, on: bool) -> None:
    """The demo opens every schedule (operator flag `always_open`), so a newcomer at night
    still sees queues and agents; `--real-hours` keeps the flows' own hours."""
    from ivr.store import redis_connect
    from ivr.store.operator_flags import set_flag

    set_flag(redis_connect.connect(redis_url), "always_open", "on" if on else None)


def build_prompts(env: dict[str, str], logs: Path) -> None:
    """Render the prompt audio (a few seconds, skipped when up to date). Without espeak-ng or
    ffmpeg the build reports it and callers hear <Say> instead: the demo still runs."""
    click.echo("ivr demo: building prompt audio ...")
    with (logs / "prompts.log").open("ab") as log:
        done = subprocess.run([sys.executable, "-m", "ivr.commands.cli", "prompts", "build"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, check=False,
                              timeout=300)
    if done.returncode != 0:
        click.echo(f"ivr demo: prompt audio not built (see {logs / 'prompts.log'}); "
                   "callers hear text-to-speech instead")


def demo_logins(env: dict[str, str], logs: Path) -> dict[str, str]:
    """One user per role with a fresh password each run, printed in the banner."""
    logins = {}
    for name, role in (("admin", "admin"), ("supervisor", "supervisor"), ("alice", "agent")):
        password = secrets.token_urlsafe(9)
        with (logs / "users.log").open("ab") as log:
            done = subprocess.run([sys.executable, "-m", "ivr.commands.cli", "user", "add", name,
                                   "--role", role, "--password", password], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, check=False)
        if done.returncode == 0:
            logins[name] = password
    return logins


def print_banner(port: int, standin_port: int, logs: Path,
                 logins: dict[str, str] | None = None, streams_port: int | None = None) -> None:
    base = f"http://127.0.0.1:{port}"
    call = f".venv/bin/ivr call --standin http://127.0.0.1:{standin_port} --to +14155550100"
    users = ", ".join(f"{n} / {p}" for n, p in (logins or {}).items()) or "(none)"
    click.echo(f"""
  IVR demo is running (Ctrl-C stops everything).

  Wallboard         {base}/wallboard     (TV mode: {base}/wallboard?tv=1)
  Admin pages       {base}/admin/flows   (sign in at {base}/login)
  Demo logins       {users}
  Wallboard events  http://127.0.0.1:{streams_port or port + 1}/wallboard/events (streams)
  Voice webhook     POST {base}/voice
  Health            {base}/readyz
  Twilio stand-in   http://127.0.0.1:{standin_port}
  Logs              {logs}

  Simulated callers and agents are on (see {logs}/callers.log); business hours are
  open all day unless you passed --real-hours.

  Place your own call (it goes through the stand-in, signed like Twilio's):
    {call} --press 1,1,10000008
    {call} --script 'press 1; press 0; hold 3; press 1; press 1'
""")
