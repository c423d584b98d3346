"""The daily retention job (RQ) and its scheduling: `run_retention` applies the policy
(`ivr/outcomes/retention.py`) with connections built from the environment; `daily_loop` (a thread of
every non-burst worker) asks for it once per UTC day, whichever worker gets there first.

Settings: `IVR_RETENTION_DAYS` (personal data, default 90) and `IVR_RECORDING_RETENTION_DAYS`
(recordings, default 30); 0 keeps forever. `ivr db retention [--dry-run]` runs the same code.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue
from rq.job import Job

from ivr.config.settings import from_env
from ivr.domain.privacy import policy_from_config
from ivr.outcomes.retention import RestDeleter, apply_retention
from ivr.phone.call_control import build_client
from ivr.store import keys
from ivr.store.db import database_url, make_engine, make_session_factory, upgrade_database
from ivr.store.jobs import RETENTION_QUEUE

log = logging.getLogger(__name__)
def run_retention(dry_run: bool = False, config: Any = None,
                  now: float | None = None) -> dict[str, Any]:
    """Apply the retention policy once; returns the report's figures (RQ keeps them)."""
    from dataclasses import asdict


    config = config or from_env()
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url, **config.db_pool())
    try:
        report = apply_retention(make_session_factory(engine), RestDeleter(build_client(config)),
                                 policy_from_config(config),
                                 time.time() if now is None else now, dry_run=dry_run)
    finally:
        engine.dispose()
    return asdict(report)


def schedule_daily(conn: redis.Redis, now: datetime) -> Job | None:
    """Enqueue today's retention run unless some worker already did (one Redis key per UTC
    day, set with NX, so several workers ask once between them)."""
    day = now.astimezone(UTC).strftime("%Y-%m-%d")
    if not conn.set(f"{keys.PREFIX}retention:{day}", "queued", nx=True, ex=2 * 86_400):
        return None
    log.info("retention run for %s queued", day)
    return Queue(RETENTION_QUEUE, connection=conn).enqueue(
        run_retention, job_id=f"retention-{day}", job_timeout=3_600, result_ttl=7 * 86_400)


def daily_loop(conn: redis.Redis, stop: threading.Event, check_every: float = 600.0) -> None:
    """Check at start and every `check_every` seconds whether today's run is queued."""
    while True:
        try:
            schedule_daily(conn, datetime.now(UTC))
        except redis.RedisError:
            log.warning("retention scheduling skipped (Redis unavailable)", exc_info=True)
        if stop.wait(check_every):
            return
