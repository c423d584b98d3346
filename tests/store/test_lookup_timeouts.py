"""SQL lookups end by their timeout (issue 12 item 12): a query that runs long on PostgreSQL
and a SQLite database another connection has locked both fail in about the timeout, the
caller hears the flow's `on_failure` path, and the source's pool is whole afterwards.

Timing bounds here are hang guards (3x the timeout), not measurements."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from ivr import create_app
from ivr.config.settings import REPO_ROOT
from ivr.flows.lookup_sql import SqlSource
from ivr.flows.lookups import LookupSources, load_sources
from tests.web.conftest import BASE, TOKEN
from tests.web.test_demo_flows import SHOP, heard, walk

TIMEOUT = 1.0
HANG_GUARD = 3 * TIMEOUT
POOL = 2
PG_SLOW = ("SELECT 'shipped' AS status FROM pg_sleep(CAST(:delay AS float)) "
           "WHERE CAST(:order_number AS text) <> ''")


@pytest.fixture
def pg_url(pg_server_url: str | None) -> str:
    if pg_server_url is None:
        pytest.skip("no PostgreSQL at DATABASE_URL or 127.0.0.1:5432")
    return pg_server_url


@pytest.fixture
def orders_db(tmp_path: Path) -> Path:
    path = tmp_path / "orders.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (order_number TEXT PRIMARY KEY, status TEXT, "
                     "total TEXT, carrier TEXT, delivery_date TEXT)")
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", [
            ("10000008", "shipped", "116.11", "UPS", "2026-11-26"),
            ("10079192", "processing", "59.43", "FedEx", "2026-11-28")])
    conn.close()
    return path


@pytest.fixture
def locked(orders_db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding an exclusive lock on the orders database."""
    holder = sqlite3.connect(orders_db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def timed(source: SqlSource, params: dict[str, str]) -> tuple[Any, float]:
    """Run through LookupSources, as a webhook does (exceptions become failed results)."""
    from ivr.domain.flow.actions import Lookup

    lookups = LookupSources({"orders": source})
    start = time.monotonic()
    result = lookups.run(Lookup("orders", params, TIMEOUT))
    return result, time.monotonic() - start


def run_many(source: SqlSource, params: dict[str, str], count: int) -> list[tuple[Any, float]]:
    """`count` lookups at once: more than the pool holds, so some wait for a slot."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: timed(source, params), range(count)))


def test_slow_postgres_query_fails_by_its_timeout_and_the_pool_recovers(pg_url: str) -> None:
    source = SqlSource(pg_url, PG_SLOW, pool_size=POOL)
    try:
        slow = {"order_number": "10000008", "delay": "5"}
        for result, took in [timed(source, slow), *run_many(source, slow, POOL * 2 + 1)]:
            assert not result["ok"]
            assert took < HANG_GUARD, f"lookup took {took:.2f} s with a {TIMEOUT} s timeout"
        pool = source.engine(TIMEOUT).pool
        assert pool.checkedout() == 0
        assert pool.size() == POOL
        results = run_many(source, {"order_number": "10000008", "delay": "0"}, POOL * 2)
        assert all(r["record"] == {"status": "shipped"} for r, _ in results)
        assert pool.checkedout() == 0
    finally:
        source.dispose()


def test_locked_sqlite_fails_by_its_timeout_and_the_pool_recovers(
        orders_db: Path, locked: sqlite3.Connection) -> None:
    source = SqlSource(f"sqlite:///{orders_db}",
                       "SELECT status FROM orders WHERE order_number = :order_number",
                       pool_size=POOL)
    try:
        params = {"order_number": "10000008"}
        for result, took in [timed(source, params), *run_many(source, params, POOL * 2 + 1)]:
            assert not result["ok"]
            assert "locked" in result["error"] or "busy" in result["error"]
            assert took < HANG_GUARD, f"lookup took {took:.2f} s with a {TIMEOUT} s timeout"
        assert source.engine(TIMEOUT).pool.checkedout() == 0
        locked.execute("ROLLBACK")
        locked.execute("BEGIN")  # the fixture's ROLLBACK still has a transaction to end
        results = run_many(source, params, POOL * 2)
        assert all(r["record"] == {"status": "shipped"} for r, _ in results)
    finally:
        source.dispose()


def test_long_sqlite_statement_is_interrupted_at_its_deadline(orders_db: Path) -> None:
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT count(*) AS status FROM n WHERE :order_number <> ''")
    source = SqlSource(f"sqlite:///{orders_db}", endless, pool_size=1)
    try:
        for _ in range(3):  # more than the pool: the interrupted connection went back
            result, took = timed(source, {"order_number": "1"})
            assert not result["ok"]
            assert "interrupted" in result["error"]
            assert took < HANG_GUARD
    finally:
        source.dispose()


def test_sql_source_settings_come_from_lookups_yaml(tmp_path: Path) -> None:
    path = tmp_path / "lookups.yaml"
    path.write_text("sources:\n  a: {type: sql, url: 'sqlite://', query: 'SELECT 1'}\n"
                    "  b: {type: sql, url: 'sqlite://', query: 'SELECT 1', pool_size: 7, "
                    "timeout: 0.5}\n")
    sources = load_sources(path, pool_size=3).sources
    assert (sources["a"].pool_size, sources["a"].timeout) == (3, None)
    assert (sources["b"].pool_size, sources["b"].timeout) == (7, 0.5)
    path.write_text("sources:\n  a: {type: sql, url: 'sqlite://', query: 'SELECT 1', "
                    "pool_size: 0}\n")
    with pytest.raises(Exception, match=r"lookups.yaml:2: sources.a.pool_size: 0 must be at "
                                        "least 1"):
        load_sources(path)


# ------------------------------------------------------------------ through the webhook
def shop_app(tmp_path: Path, redis_url: str, orders: dict[str, Any], **config: Any) -> Flask:
    """The demo flows with the shop's `orders` source replaced by `orders`."""
    flows = tmp_path / "callflows"
    shutil.copytree(REPO_ROOT / "callflows", flows)
    lookups = yaml.safe_load((REPO_ROOT / "lookups.yaml").read_text())
    for spec in lookups["sources"].values():
        spec["path"] = str(REPO_ROOT / spec["path"])
    lookups["sources"]["orders"] = orders
    (tmp_path / "lookups.yaml").write_text(yaml.safe_dump(lookups))
    return create_app({"redis_url": redis_url, "twilio_auth_token": TOKEN,
                       "public_base_url": BASE, "instance_dir": tmp_path / "instance",
                       "flows_dir": flows, "prompts_audio_dir": tmp_path / "no-audio",
                       **config})


class Spy:
    """Times the app's real lookups (nothing replaced: the call goes through)."""

    def __init__(self, app: Flask) -> None:
        self.lookups = app.extensions["ivr"].calls.lookups
        self.real = self.lookups.run
        self.took: list[float] = []
        self.lock = threading.Lock()
        self.lookups.run = self.run

    def run(self, lookup: Any) -> Any:
        start = time.monotonic()
        try:
            return self.real(lookup)
        finally:
            with self.lock:
                self.took.append(time.monotonic() - start)


ORDER_STATUS = "press 1; press 1; press 10000008#; hold 1"


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_the_caller_hears_on_failure_in_time_and_calls_after_still_look_up(
        request: pytest.FixtureRequest, database: str, redis_url: str, redis: Any,
        tmp_path: Path) -> None:
    if database == "postgresql":
        url = request.getfixturevalue("pg_url")
        orders = {"type": "sql", "url": url, "query": PG_SLOW.replace(
            "CAST(:delay AS float)", "5"), "timeout": TIMEOUT, "pool_size": POOL}
    else:
        url = f"sqlite:///{request.getfixturevalue('orders_db')}"
        request.getfixturevalue("locked")
        orders = {"type": "sql", "url": url, "timeout": TIMEOUT, "pool_size": POOL,
                  "query": "SELECT * FROM orders WHERE order_number = :order_number"}
    app = shop_app(tmp_path, redis_url, orders, lookup_pool_size=1)
    spy = Spy(app)
    try:
        for _ in range(POOL + 2):  # more calls than the pool has connections
            words = heard(walk(app, SHOP, ORDER_STATUS))
            assert "I can't look that up right now." in words
            assert "has shipped" not in words
        assert len(spy.took) == POOL + 2
        assert max(spy.took) < HANG_GUARD, spy.took
        source = app.extensions["ivr"].calls.lookups.sources["orders"]
        assert source.pool_size == POOL  # the file's setting wins over IVR_LOOKUP_POOL_SIZE
        assert source.engine(TIMEOUT).pool.checkedout() == 0
    finally:
        app.extensions["ivr"].calls.lookups.sources["orders"].dispose()


def test_the_caller_hears_the_record_from_sqlite(redis_url: str, redis: Any, tmp_path: Path,
                                                 orders_db: Path) -> None:
    orders = {"type": "sql", "url": f"sqlite:///{orders_db}", "timeout": TIMEOUT,
              "query": "SELECT * FROM orders WHERE order_number = :order_number"}
    app = shop_app(tmp_path, redis_url, orders)
    words = heard(walk(app, SHOP, "press 1; press 1; press 10000008#; press 1"))
    assert "has shipped with UPS" in words
