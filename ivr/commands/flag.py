"""`ivr flag`: operator switches from the terminal (the admin pages flip the same ones).

    ivr flag list
    ivr flag set emergency_closed on     # every schedule reports "emergency": flows say so
    ivr flag set always_open on          # open every schedule (demo, late opening)
    ivr flag clear emergency_closed
"""

from __future__ import annotations

import click
import redis


def _conn() -> redis.Redis:
    from ivr.app.services import connect_redis
    from ivr.config.settings import from_env

    return connect_redis(from_env())[0]


@click.group("flag")
def command() -> None:
    """Operator switches: emergency closure, always open, storm mode, ..."""


@command.command("list")
def list_flags() -> None:
    from ivr.store.operator_flags import get_flags

    for name, value in sorted(get_flags(_conn()).items()):
        click.echo(f"{name}={value}")


@command.command("set")
@click.argument("name")
@click.argument("value", default="on")
def set_(name: str, value: str) -> None:
    from ivr.store.operator_flags import set_flag

    set_flag(_conn(), name, value)
    click.echo(f"{name}={value}")


@command.command("clear")
@click.argument("name")
def clear(name: str) -> None:
    from ivr.store.operator_flags import set_flag

    set_flag(_conn(), name, None)
    click.echo(f"{name} cleared")
