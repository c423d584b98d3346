"""`ivr agent list` and `ivr agent presence ID STATE`: agents from the command line."""

from __future__ import annotations

import time

import click


def _service() -> object:
    from ivr.config.queues import build_queue_service
    from ivr.config.settings import from_env
    from ivr.store import redis_connect
    from ivr.store.embedded_redis import EmbeddedRedis

    config = from_env()
    url = config.redis_url or EmbeddedRedis(config.instance_dir / "redis").start().url
    return build_queue_service(config, redis_connect.connect(url))


@click.group("agent")
def command() -> None:
    """List agents and set their presence."""


@command.command("list")
def list_agents() -> None:
    """One line per agent: id, presence, address, skills."""
    svc = _service()
    for agent in svc.agents.all():  # type: ignore[attr-defined]
        skills = ", ".join(f"{s}:{lvl}" for s, lvl in sorted(agent.skills.items()))
        click.echo(f"{agent.id:<12} {agent.presence.value:<10} {agent.address:<18} {skills}")


@command.command("presence")
@click.argument("agent_id")
@click.argument("state", type=click.Choice(["available", "break", "offline"]))
def set_presence(agent_id: str, state: str) -> None:
    """Set AGENT_ID's presence to STATE."""
    from ivr.domain.errors import IvrError

    svc = _service()
    try:
        old = svc.agent_presence(agent_id, state, time.time())  # type: ignore[attr-defined]
    except (IvrError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{agent_id}: {old} -> {state}")
