"""`ivr tasks`: the follow-up worklist from the terminal (same rules as /api/tasks).

    ivr tasks list [--status open] [--team support] [--owner alice] [--overdue]
    ivr tasks close 7 --disposition called_back [--notes "..."] [--by alice]
    ivr tasks backfill --since 2d      # apply followup.yaml to recent calls (no texts sent)

Uses DATABASE_URL, or SQLite under the instance folder (ivr.store.db). See docs/followup.md.
"""

from __future__ import annotations

import functools
import getpass
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session


@functools.cache
def _engine() -> Engine:
    from ivr.config.settings import from_env
    from ivr.store.db import database_url, make_engine, upgrade_database

    config = from_env()
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    return make_engine(url)


def _session() -> Session:
    return Session(_engine(), expire_on_commit=False)


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
    from ivr.config.settings import from_env
    from ivr.store import redis_connect
    from ivr.store.caller_summary import config_summary_ttl, refresh_caller_summary

    config = from_env()
    url = config.redis_url
    if not caller or not url:
        return
    conn = redis_connect.connect(url, socket_timeout=2)
    try:
        refresh_caller_summary(session, conn, caller, datetime.now(UTC),
                               config_summary_ttl(config))
    finally:
        conn.close()


@command.command("backfill")
@click.option("--since", default="1d", show_default=True,
              help="Calls started this long ago or later (90m, 12h, 2d).")
def backfill(since: str) -> None:
    """Apply followup.yaml to recent calls again (after adding or changing a rule): opens the
    tasks they call for, once per rule and call as always. Sends no SMS: a text about an old
    call would surprise the customer."""
    from dataclasses import replace

    from sqlalchemy import select

    from ivr.config.settings import from_env
    from ivr.domain.followup_rules import DURATION, UNITS
    from ivr.outcomes.followup import load_rules_file
    from ivr.store import models as m
    from queue_worker.followup import FollowupHook

    match = DURATION.match(since)
    if match is None:
        raise click.BadParameter("write a number and a unit, e.g. 90m, 12h or 2d",
                                 param_hint="--since")
    rules = load_rules_file(from_env().followup_file)
    hook = FollowupHook(replace(rules, rules=tuple(replace(r, sms=None) for r in rules.rules)))
    start = datetime.now(UTC).timestamp() - int(match.group(1)) * UNITS[match.group(2)]
    with _session() as session:
        sids = list(session.execute(select(m.CallRow.call_sid).where(
            m.CallRow.started_at >= datetime.fromtimestamp(start, UTC))).scalars())
    opened = sum(_evaluate_again(hook, sid) for sid in sids)
    click.echo(f"{len(sids)} calls evaluated, {opened} tasks opened")


def _evaluate_again(hook: Any, sid: str) -> int:
    """Re-fold one call under its row lock (as the writer does) and run the follow-up hook;
    returns how many tasks it opened."""
    from sqlalchemy import func, select

    from ivr.store import models as m
    from ivr.store.call_records import rebuild_call

    def count(session: Session) -> int:
        return int(session.scalar(select(func.count()).select_from(m.FollowupTaskRow).where(
            m.FollowupTaskRow.call_sid == sid)) or 0)

    with _session() as session, session.begin():
        session.execute(select(m.CallRow.call_sid).where(m.CallRow.call_sid == sid)
                        .with_for_update())
        before = count(session)
        hook(session, rebuild_call(session, sid))
        return count(session) - before
