"""`ivr staffing` without calculator flags: the staffing advisor for every queue of the running
system, read from its Redis (agents, hold statistics) and its outcome database (arrivals), as
the wallboard shows it. The reading and the arithmetic are dashboards/staffing.py's."""

from __future__ import annotations

import json
import time
from typing import Any

import click


def _read(now: float) -> list[dict[str, Any]]:
    from dashboards.staffing import live_advice
    from ivr.app.services import connect_redis
    from ivr.config.queues import build_queue_service
    from ivr.config.settings import from_env
    from ivr.store.db import database_url, make_engine, upgrade_database

    config = from_env()
    if not config.queues_file.exists():
        raise click.ClickException(f"no {config.queues_file}: there are no queues to staff")
    conn, embedded = connect_redis(config)
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url)
    try:
        return live_advice(engine, build_queue_service(config, conn), config.queues_file, now)
    finally:
        engine.dispose()
        conn.close()
        if embedded is not None:
            embedded.stop()


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _asa(x: float | None) -> str:
    return "inf" if x is None else f"{x:.0f}s"


def _print(advice: dict[str, Any]) -> None:
    click.echo(f"{advice['queue']}: {advice['sentence']}")
    click.echo(f"  {advice['calls_per_hour']:g} calls/hour now "
               f"({advice['next_hour_calls_per_hour']:g} next hour), handle time "
               f"{advice['aht']:g} s, patience "
               f"{'-' if advice['patience'] is None else format(advice['patience'], 'g')} s; "
               f"next hour needs {advice['next_hour_agents_needed'] or '-'} agents")
    rows = sorted([*advice["options"], *([advice["current"]] if advice["current"] else [])],
                  key=lambda p: p["agents"])
    click.echo(f"  {'agents':>7} {'service level':>14} {'abandon':>8} {'ASA':>7}")
    for p in rows:
        mark = "  <- working now" if p["agents"] == advice["agents"] else ""
        click.echo(f"  {p['agents']:>7} {_pct(p['service_level']):>14} "
                   f"{_pct(p['abandon_rate']):>8} {_asa(p['asa']):>7}{mark}")


def live(as_json: bool) -> None:
    """Print every queue's advice (one JSON object with --json)."""
    now = time.time()
    queues = _read(now)
    if as_json:
        click.echo(json.dumps({"at": now, "queues": queues}))
        return
    for advice in queues:
        _print(advice)
