"""`ivr tasks`: the follow-up worklist from the terminal (same rules as /api/tasks).

    ivr tasks list [--status open] [--team support] [--owner alice] [--overdue]
    ivr tasks close 7 --disposition called_back [--notes "..."] [--by alice]

Uses DATABASE_URL, or SQLite under the instance folder (ivr.store.db). See docs/followup.md.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session


def _session() -> Session:
    from ivr.config import from_env
    from ivr.store.db import database_url, make_engine, upgrade_database

    config = from_env()
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    return Session(make_engine(url), expire_on_commit=False)


@click.group("tasks")
def command() -> None:
    """Follow-up tasks: unhappy or unfinished calls someone must act on."""


@command.command("list")
@click.option("--status", type=click.Choice(["open", "in_progress", "closed"]), default="open",
              show_default=True, help="open = not closed (open or in progress).")
@click.option("--team", default=None)
@click.option("--owner", default=None)
@click.option("--caller", default=None)
@click.option("--overdue", is_flag=True, help="Only tasks past their due time.")
@click.option("--limit", default=200, show_default=True)
def list_(status: str, team: str | None, owner: str | None, caller: str | None,
          overdue: bool, limit: int) -> None:
    """List tasks, most urgent first: id, priority, due, team, owner, rule, caller, reason."""
    from ivr.store.tasks import is_overdue, list_tasks

    now = datetime.now(UTC)
    with _session() as session:
        found = list_tasks(session, status=status, team=team, owner=owner, caller=caller,
                           overdue_at=now if overdue else None, limit=limit)
    for t in found:
        due = t.due_at if t.due_at.tzinfo else t.due_at.replace(tzinfo=UTC)
        late = " OVERDUE" if is_overdue(t, now) else ""
        click.echo(f"{t.id}\tP{t.priority}\t{due:%Y-%m-%d %H:%M}Z{late}\t{t.team or '-'}\t"
                   f"{t.owner or '-'}\t{t.status}\t{t.rule}\t{t.caller or '-'}\t{t.reason}")
    click.echo(f"{len(found)} tasks", err=True)


@command.command("close")
@click.argument("task_id", type=int)
@click.option("--disposition", required=True, help="Why it is done, e.g. called_back.")
@click.option("--notes", default=None)
@click.option("--by", default=None, help="Who closed it.  [default: your login name]")
def close(task_id: int, disposition: str, notes: str | None, by: str | None) -> None:
    """Close a task with a disposition."""
    from ivr.store.tasks import close_task

    with _session() as session, session.begin():
        try:
            task = close_task(session, task_id, disposition, notes, by=by or getpass.getuser())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--disposition") from exc
        session.flush()
        _refresh_caller(session, task.caller)
        click.echo(f"closed task {task.id} ({task.rule}, {task.caller or '-'}): {disposition}")


def _refresh_caller(session: Session, caller: str | None) -> None:
    """As the API does: the caller's summary for flows counts open tasks
    (ivr/store/caller_summary.py). Without REDIS_URL there is no shared Redis to update (an
    embedded one belongs to the running server), so nothing is done."""
    import redis as redis_lib

    from ivr.config import from_env
    from ivr.store.caller_summary import refresh_caller_summary

    url = from_env().redis_url
    if not caller or not url:
        return
    conn = redis_lib.Redis.from_url(url, socket_timeout=2)
    try:
        refresh_caller_summary(session, conn, caller, datetime.now(UTC))
    finally:
        conn.close()
