"""The `ivr` console script: the product's front door.

Commands live one per module in `ivr/commands/` (and benchmarks in `devkit/bench/`, the
developer tooling that a production image leaves out); each module exposes a click object
named `command`. Discovery keeps this file from becoming a god module
and lets each part of the product own its own command. Modules are imported only when the CLI
starts, never at package import.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

import ivr.commands
from ivr.commands._devkit import DevkitGroup, devkit_missing


def _add_commands(group: click.Group, package: object) -> None:
    for info in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        if info.name.startswith("_") or info.name == "cli":  # cli: this module, no command
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")  # type: ignore[attr-defined]
        cmd = getattr(module, "command", None)
        if isinstance(cmd, click.Command):
            group.add_command(cmd)


class IvrGroup(click.Group):
    """Our own errors (bad configuration, a malformed file) are messages that say what to
    fix, not tracebacks: print them and exit 1."""

    def invoke(self, ctx: click.Context) -> object:
        from ivr.domain.errors import IvrError

        try:
            return super().invoke(ctx)
        except IvrError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=IvrGroup)
def main() -> None:
    """Phone IVR and call-center queue: serve webhooks, run workers, check and test call flows."""
    from ivr.app.log_format import install_masking

    install_masking()


@main.group(cls=DevkitGroup)
def bench() -> None:
    """Benchmarks that print their figures (see README; they live in devkit/bench/)."""


def _add_bench_commands() -> None:
    """The benchmarks come from the developer tooling (devkit/), which a production image does
    not carry: without it `ivr bench` says so instead of failing at start."""
    if devkit_missing() is None:
        import devkit.bench  # developer tooling on top of the product, present in a checkout

        _add_commands(bench, devkit.bench)


_add_commands(main, ivr.commands)
_add_bench_commands()


if __name__ == "__main__":
    main()
