"""`ivr user`: people who sign in to the pages.

    ivr user add ada --role admin             # asks for the password (twice)
    ivr user add sam --role supervisor --password-stdin < secret.txt
    ivr user list
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import Engine


def _engine() -> Engine:
    from ivr.config.settings import from_env
    from ivr.store.db import database_url, make_engine, upgrade_database

    config = from_env()
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    return make_engine(url)


@click.group("user")
def command() -> None:
    """Users of the web pages (roles: admin, supervisor, agent)."""


@command.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "supervisor", "agent"]), required=True)
@click.option("--password", default=None, help="Prefer the prompt or --password-stdin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(username: str, role: str, password: str | None, password_stdin: bool) -> None:
    """Add a user, or change an existing one's role and password."""
    from ivr.store.users import save_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    added = save_user(_engine(), username.lower(), role, password)
    click.echo(f"{'added' if added else 'updated'} {username.lower()} ({role})")


@command.command("list")
def list_() -> None:
    from ivr.store.users import list_users

    for user in list_users(_engine()):
        click.echo(f"{user.username}\t{user.role}")
