"""Whether the developer tooling (devkit/: Twilio stand-in, benchmarks, load generator) is here.

The production image installs only the product (ivr, queue_worker, dashboards); the commands
that drive the stand-in or the benchmarks (`ivr demo`, `ivr call`, `ivr load`, `ivr bench`,
`ivr twilio-standin`) call `require_devkit()` first so that they say what is missing and how
to get it instead of failing with an ImportError.
"""

from __future__ import annotations

import click

MISSING = (
    "this command needs the developer tooling (the devkit/ package: Twilio stand-in, "
    "benchmarks, load generator), which is not installed here (the production image leaves "
    "it out); run it from a source checkout: pip install -e '.[dev]'"
)


def devkit_missing() -> str | None:
    """None when devkit is importable, else the message saying how to get it."""
    try:
        import devkit  # noqa: F401  (only whether it is there: the package itself is empty)
    except ImportError:
        return MISSING
    return None


def require_devkit() -> None:
    """Stop the command with a clear message (exit 1) when devkit is not installed."""
    missing = devkit_missing()
    if missing is not None:
        raise click.ClickException(missing)


class DevkitGroup(click.Group):
    """A command group whose subcommands come from devkit: without devkit, naming any of them
    says what is missing (rather than click's "No such command")."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        require_devkit()
        return super().resolve_command(ctx, args)
