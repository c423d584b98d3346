"""`ivr bench flow-report`: flow analytics over one busy day (1 million steps by default).

Writes a synthetic day of a menu-driven flow straight into a fresh database (the same tables
and indexes the migrations make: calls and their steps, with details and next nodes as the
writer stores them), then times `ivr.store.flow_analytics.flow_figures` over that day, cold
and warm, on SQLite and, when one answers (--postgres URL or DATABASE_URL), PostgreSQL; then
once more after VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite), the state autovacuum keeps the
table in (migration 0009): straight after a bulk fill PostgreSQL's visibility map is empty and
its index-only read fetches every row from the heap too, which a live table, written over the
day and vacuumed as it goes, does not. The bar (issue 15): under a second for a day of 1
million steps. Owns data generation and timing
only; never imported by the product.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from ivr.store import models as m
from ivr.store.db import make_engine, upgrade_database
from ivr.store.flow_analytics import flow_figures

NODES = ("greet", "choose_language", "main_menu", "ask_order", "lookup_order", "order_shipped",
         "solved_check", "to_support", "opening_hours", "goodbye")


def _call_steps(rng: random.Random, sid: str, start: datetime) -> list[dict[str, Any]]:
    """About 10 steps: entries with their next node, answers with details, and drop-offs."""
    path = ["greet", "choose_language", "main_menu"]
    path += rng.choice([["ask_order", "lookup_order", "order_shipped", "solved_check"],
                        ["to_support"], ["opening_hours", "goodbye"], []])
    rows: list[dict[str, Any]] = []
    at = start
    for i, node in enumerate(path):
        nxt = path[i + 1] if i + 1 < len(path) else None
        rows.append({"node": node, "detail": "", "next_node": nxt, "at": at,
                     "first_entry": True})
        if node.endswith("menu") or node.startswith("choose"):
            if rng.random() < 0.2:
                rows.append({"node": node, "detail": "no input; retry 1 of 2", "at": at})
            rows.append({"node": node, "detail": f"chose {rng.randint(1, 4)}", "at": at})
        at += timedelta(seconds=rng.uniform(2, 20))
    answered = path[-1] == "to_support" and rng.random() < 0.8
    for seq, row in enumerate(rows):
        left = rows[seq + 1]["at"] if seq + 1 < len(rows) else at
        row.update(call_sid=sid, seq=seq, kind="visit", left_at=left, flow="shop",
                   hour=int(row["at"].timestamp() // 3600),
                   dwell_s=(left - row["at"]).total_seconds(), answered=answered,
                   contained=path[-1] == "solved_check")
        row.setdefault("next_node", None)
        row.setdefault("first_entry", None)
    return rows


def fill(url: str, steps: int, day: datetime, seed: int = 1) -> int:
    """A day of calls with about `steps` steps in `url` (migrated first); returns steps."""
    from sqlalchemy import insert


    upgrade_database(url)
    engine = make_engine(url)
    rng, written, n = random.Random(seed), 0, 0
    try:
        while written < steps:
            calls, batch = [], []
            for _ in range(2000):
                sid = f"CA{n:032d}"
                start = day + timedelta(seconds=rng.uniform(0, 86_000))
                rows = _call_steps(rng, sid, start)
                calls.append({"call_sid": sid, "flow": "shop", "started_at": start,
                              "ended_at": rows[-1]["left_at"], "outcome": "ivr_hangup",
                              "answered": rows[-1]["answered"], "abandoned": False})
                batch += rows
                n += 1
            with engine.begin() as conn:
                conn.execute(insert(m.CallRow), calls)
                conn.execute(insert(m.CallStepRow), batch)
            written += len(batch)
    finally:
        engine.dispose()
    return written


def settle(url: str) -> None:
    """What autovacuum does to the table after the fill: statistics and, on PostgreSQL, the
    visibility map (VACUUM cannot run inside a transaction: autocommit)."""
    from sqlalchemy import text

    from ivr.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            postgres = conn.dialect.name == "postgresql"
            conn.execute(text("VACUUM (ANALYZE) call_steps" if postgres else "ANALYZE"))
    finally:
        engine.dispose()


def time_report(url: str, day: datetime, runs: int = 3) -> list[float]:
    engine = make_engine(url)
    took = []
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = flow_figures(engine, "shop", day, day + timedelta(days=1))
            took.append(time.perf_counter() - t0)
            assert rows, "no figures: the day was not written"
    finally:
        engine.dispose()
    return took


@click.command("flow-report")
@click.option("--steps", default=1_000_000, show_default=True, help="Steps in the day.")
@click.option("--postgres", default=None, help="Also on this PostgreSQL URL (a scratch schema "
              "is not made: give a database you can fill).")
def command(steps: int, postgres: str | None) -> None:
    """Time flow analytics over one busy day of stored steps (SQLite, and PostgreSQL)."""
    day = datetime(2026, 11, 24, 8, tzinfo=UTC)
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if postgres:
            targets.append(("PostgreSQL", postgres))
        click.echo(f"{'database':<11} {'steps':>9} {'fill s':>7} {'first s':>8} {'warm s':>7} "
                   f"{'vacuumed s':>10}")
        for name, url in targets:
            t0 = time.perf_counter()
            written = fill(url, steps, day)
            filled = time.perf_counter() - t0
            took = time_report(url, day)
            settle(url)
            settled = min(time_report(url, day, runs=2))
            click.echo(f"{name:<11} {written:>9,} {filled:>7.1f} {took[0]:>8.3f} "
                       f"{min(took[1:]):>7.3f} {settled:>10.3f}")
