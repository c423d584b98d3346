"""The `ivr` console script: the product's front door.

Commands live one per module in `ivr/commands/` (and benchmarks in `devkit/bench/`, the
developer tooling that a production image leaves out); each module exposes a click object
named `command`. `COMMANDS` and `BENCHMARKS` list them by name, so this file shows every
command at a glance (tests/e2e/test_cli_commands.py checks that none is left out), and a
command's module is imported only when that command runs (or `--help` lists them all): `ivr
serve` does not load the benchmarks, nor `ivr flag` the web app.
"""

from __future__ import annotations

import importlib

import click

from ivr.commands._devkit import DevkitGroup, devkit_missing
from ivr.config.log_format import install_masking
from ivr.domain.errors import IvrError

COMMANDS = {
    "agent": "ivr.commands.agent",
    "call": "ivr.commands.call",
    "check": "ivr.commands.check",
    "db": "ivr.commands.db",
    "demo": "ivr.commands.demo",
    "demo-traffic": "ivr.commands.demo_traffic",
    "flag": "ivr.commands.flag",
    "load": "ivr.commands.load",
    "prompts": "ivr.commands.prompts",
    "report": "ivr.commands.report",
    "schema": "ivr.commands.schema",
    "serve": "ivr.commands.serve",
    "settings": "ivr.commands.settings",
    "staffing": "ivr.commands.staffing",
    "streams": "ivr.commands.streams",
    "tasks": "ivr.commands.tasks",
    "twilio-standin": "ivr.commands.standin",
    "user": "ivr.commands.user",
    "worker": "ivr.commands.worker",
}
BENCHMARKS = {
    "abuse": "devkit.bench.abuse",
    "ewt": "devkit.bench.ewt",
    "faults": "devkit.bench.faults",
    "flow-report": "devkit.bench.flow_report",
    "held": "devkit.bench.held",
    "routing": "devkit.bench.routing",
    "soak": "devkit.bench.soak",
    "webhook": "devkit.bench.webhook",
}


def load_command(module_name: str) -> click.Command:
    """The `command` of a command module (imported now, on first use)."""
    command = getattr(importlib.import_module(module_name), "command", None)
    if not isinstance(command, click.Command):
        raise RuntimeError(f"{module_name} has no click object named `command`")
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported when one is asked for, from a name -> module
    table (`lazy`)."""

    def __init__(self, *args: object, lazy: dict[str, str] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return load_command(self.lazy[cmd_name])
        return super().get_command(ctx, cmd_name)


class IvrGroup(LazyGroup):
    """Our own errors (bad configuration, a malformed file) are messages that say what to
    fix, not tracebacks: print them and exit 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except IvrError as exc:
            raise click.ClickException(str(exc)) from exc


class BenchGroup(DevkitGroup, LazyGroup):
    """The benchmarks, from devkit/: without it, naming one says what is missing."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return super().list_commands(ctx) if devkit_missing() is None else []


@click.group(cls=IvrGroup, lazy=COMMANDS)
def main() -> None:
    """Phone IVR and call-center queue: serve webhooks, run workers, check and test call flows."""
    install_masking()


@main.group(cls=BenchGroup, lazy=BENCHMARKS)
def bench() -> None:
    """Benchmarks that print their figures (see README; they live in devkit/bench/)."""


if __name__ == "__main__":
    main()
