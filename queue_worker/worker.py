"""`run_worker(redis_url, queues)`: an RQ worker for the queue jobs, with RQ's scheduler, and
(by default) the outcome writer that moves events from the Redis stream into the database.

The connection is made here, once, and passed explicitly (RQ 2+ requires `connection=`); the
job context (QueueService, CallControl) is built here too, so jobs never connect on their own.
`with_scheduler=True` moves `enqueue_in`/`enqueue_at` jobs (routing timers, wrap-up ends,
callback retries) into the queue when due.

The writer runs in a thread of the same process because it is I/O bound and small; it stops
with the worker. Several workers run several writers safely: they share one consumer group,
and each event id is written once (see queue_worker/outcomes.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import redis
from rq import Worker

from ivr.app.services import publish_event
from ivr.config.log_format import install_masking
from ivr.config.settings import from_env
from ivr.phone.call_control import build_client
from ivr.phone.queue_handoff import QueueHandOff
from ivr.store import redis_connect
from ivr.store.call_state import CallStateStore
from ivr.store.db import database_url, make_engine, make_session_factory
from ivr.store.jobs import (
    WORKER_QUEUES,
    enqueue_once,
)
from ivr.store.sqlite_fork import FORK_GUARD
from queue_worker import outcomes
from queue_worker.context import build_context, current_context_for, install_context
from queue_worker.reconcile import run_pass, twilio_status
from queue_worker.retention import daily_loop
from queue_worker.routing import route_all
from queue_worker.stale_agents import STALE_RETRY, clear_stale_agents

log = logging.getLogger(__name__)



def run_worker(redis_url: str, queues: Sequence[str] = WORKER_QUEUES, *,
               burst: bool = False, name: str | None = None, config: Any = None,
               write_outcomes: bool = False) -> bool:
    """Work the given RQ queues until stopped (or until empty with `burst`)."""
    install_masking()  # RQ logs each job's arguments (call sids, sometimes numbers)
    conn = redis_connect.connect(redis_url, **_pool_options(config, "worker"))
    ctx = install_context(conn, build_context(conn, config))
    ctx.rq.enqueue(route_all, "startup")  # timers lost with a crashed worker are re-armed
    # agents still held by calls that died with the previous run (queue_worker/stale_agents.py)
    enqueue_once(ctx.rq, "stale-agents-startup", clear_stale_agents, retry=STALE_RETRY)
    stop = threading.Event()
    writer = _start_writer(config, stop) if write_outcomes else None
    if not burst:
        threading.Thread(target=_tick, args=(ctx.rq, ctx.tick_seconds, stop), daemon=True,
                         name="routing-tick").start()
    if write_outcomes and not burst:
        reconcile_pass = _reconciler(conn, config)  # built here: see _start_writer on imports
        if reconcile_pass is not None:
            threading.Thread(target=_reconcile, args=(reconcile_pass, stop), daemon=True,
                             name="reconcile-calls").start()
        threading.Thread(target=daily_loop, args=(conn, stop), daemon=True,
                         name="retention-daily").start()
    try:
        worker = GuardedWorker(list(queues), connection=conn, name=name)
        return bool(worker.work(with_scheduler=True, burst=burst))
    finally:
        stop.set()
        if writer is not None:
            writer.join(10)


class GuardedWorker(Worker):
    """RQ's forking worker, forking its work horse only between this process's SQLite
    transactions: a horse forked while the outcome writer's thread held the write lock found
    the database locked for good (ivr/store/sqlite_fork.py)."""

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        with FORK_GUARD.forking():
            super().fork_work_horse(job, queue)


def _pool_options(config: Any, role: str) -> dict[str, Any]:
    """The Redis pool limits (IVR_REDIS_MAX_CONNECTIONS, ...) and this process's client name."""
    return {**(config or from_env()).redis_pool(),
            "client_name": redis_connect.process_client_name(role)}


def _tick(rq: Any, seconds: float, stop: threading.Event) -> None:
    """Ask for `route_all` every `seconds` (one pending at a time across all workers)."""
    while not stop.wait(seconds):
        try:
            enqueue_once(rq, "route-all-tick", route_all, "tick")
        except Exception:  # noqa: BLE001 - Redis away: the next tick tries again
            log.warning("routing tick skipped (Redis unavailable)", exc_info=True)


RECONCILE_EVERY = 60.0  # seconds between passes over calls without a recorded end


def _reconciler(conn: redis.Redis, config: Any) -> Any:
    """The reconciliation pass, or None (logged) when it cannot start."""
    try:
        return build_reconciler(conn, config)
    except Exception:  # noqa: BLE001 - never take the worker down; say why it is off
        log.exception("call reconciliation is off: it could not start")
        return None


def _reconcile(reconcile_pass: Any, stop: threading.Event) -> None:
    """Calls with no recorded end get it from Twilio's REST API (queue_worker/reconcile.py)."""
    while not stop.wait(RECONCILE_EVERY):
        try:
            reconcile_pass()
        except Exception:  # noqa: BLE001 - database or Redis away: the next pass tries again
            log.warning("call reconciliation pass skipped", exc_info=True)


def build_reconciler(conn: redis.Redis, config: Any = None) -> Any:
    """One reconciliation pass as a callable, wired to this worker's connections: the outcome
    database, the queue engine (a ghost caller leaves the line) and Twilio's REST API."""
    config = config or from_env()
    after = config.reconcile_after
    sessions = make_session_factory(make_engine(
        database_url(config.database_url, config.instance_dir), **config.db_pool()))
    handoff = QueueHandOff(current_context_for(conn).service, CallStateStore(conn),
                           lambda kind, sid, data, at: publish_event(conn, kind, sid, data, at))
    status_of = twilio_status(build_client(config))
    return lambda: run_pass(conn, sessions, status_of, handoff.call_ended, RECONCILE_EVERY,
                            after=after)


WRITER_SETUP_WAIT = 60.0  # seconds the worker waits for the writer's setup before forking


def _start_writer(config: Any, stop: threading.Event) -> threading.Thread:
    """Start the outcome writer's thread and return once its setup is done (or failed).

    Why wait: RQ forks a work horse for every job, and a fork taken while another thread is
    importing a module leaves that module's import lock held for ever in the child. The
    writer's setup imports alembic, the database driver and the follow-up rules; a retention
    job forked at that moment hung in `from alembic import command` and outlived `ivr demo`.
    So the first fork waits until the writer is set up; the reconciler is built in the main
    thread for the same reason."""
    ready = threading.Event()

    def run() -> None:
        try:
            outcomes.start_event_writer(config or from_env(), stop=stop, ready=ready)
        except Exception:  # the writer must never take the routing worker down with it
            log.exception("outcome writer stopped; events stay in Redis until it runs again")
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="outcome-writer", daemon=True)
    thread.start()
    if not ready.wait(WRITER_SETUP_WAIT):
        log.warning("outcome writer still setting up after %.0f s; working jobs anyway",
                    WRITER_SETUP_WAIT)
    return thread
