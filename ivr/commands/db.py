"""`ivr db upgrade` and `ivr db current`: the outcome database's schema from the command line.

Uses DATABASE_URL, or SQLite under the instance folder when it is unset (ivr.store.db).
"""

from __future__ import annotations

import click


def _url() -> str:
    from ivr.config.settings import from_env
    from ivr.store.db import database_url

    config = from_env()
    return database_url(config.database_url, config.instance_dir)


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group("db")
def command() -> None:
    """The outcome database: create or upgrade its tables."""


@command.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision.")
def upgrade(revision: str) -> None:
    """Create the tables, or bring them up to date (safe to run at every deploy)."""
    from sqlalchemy.exc import OperationalError

    from ivr.store.db import current_revision, upgrade_database

    url = _url()
    try:
        upgrade_database(url, revision)
    except OperationalError as exc:
        raise click.ClickException(
            f"cannot reach the database at {_shown(url)}: {exc.orig}. Check DATABASE_URL "
            "(unset it to use SQLite under the instance folder).") from exc
    click.echo(f"{_shown(url)}: at revision {current_revision(url)}")


@command.command("current")
def current() -> None:
    """Print the database's schema revision (none before the first upgrade)."""
    from ivr.store.db import current_revision

    url = _url()
    click.echo(f"{_shown(url)}: {current_revision(url) or 'none'}")


@command.command("writer")
@click.option("--burst", is_flag=True, help="Apply the waiting events once, then exit.")
def writer(burst: bool) -> None:
    """Apply outcome events from Redis to the database (run one or more beside the workers)."""
    from ivr.config.settings import from_env
    from queue_worker.outcomes import start_event_writer

    result = start_event_writer(from_env(), burst=burst)
    if result is not None:
        click.echo(f"written {result.written}, duplicates {result.duplicates}, "
                   f"rejected {result.rejected}, failed {result.failed}")
        if result.unavailable:
            raise click.ClickException(f"database unavailable, events kept: "
                                       f"{result.unavailable}")


@command.command("events")
def events_status() -> None:
    """Outcome events held in Redis and delivered-but-unwritten ones (pending)."""
    from ivr.config.settings import from_env
    from ivr.store import events, redis_connect
    from ivr.store.embedded_redis import EmbeddedRedis

    config = from_env()
    url = config.redis_url or EmbeddedRedis(config.instance_dir / "redis").start().url
    conn = redis_connect.connect(url)
    click.echo(f"stream {events.backlog(conn)}, pending {events.pending_count(conn)}")


@command.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is due; delete nothing.")
def retention(dry_run: bool) -> None:
    """Delete recordings and personal data older than IVR_RECORDING_RETENTION_DAYS (30) and
    IVR_RETENTION_DAYS (90), here and at Twilio; anonymised figures stay for reports."""
    from ivr.config.settings import from_env
    from ivr.domain.privacy import policy_from_config
    from ivr.outcomes.retention import RetentionReport
    from queue_worker.retention import run_retention

    config = from_env()
    policy = policy_from_config(config)
    figures = run_retention(dry_run=dry_run, config=config)
    click.echo(f"retention ({policy.personal_days} days personal data, "
               f"{policy.recording_days} days recordings): "
               f"{RetentionReport(**figures).summary()}")
