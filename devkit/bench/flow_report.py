"""`ivr bench flow-report`: flow analytics over one busy day (1 million steps by default).

Writes a synthetic day of a menu-driven flow into a fresh database (the migrations' tables:
calls and their steps, with details and next nodes as the writer stores them, and the hourly
rollups the writer keeps, ivr/store/flow_rollups.py), then times
`ivr.store.flow_analytics.flow_figures` over that day straight after the writes (`first`: no
VACUUM, no ANALYZE, cold caches for the rollups) and warm, on SQLite and, when given
(--postgres URL), PostgreSQL, and once from the steps alone (the report before migration
0011), checking both give the same figures. Prints the load average beside each: the machine
is shared. The bar (issue 15): under a second for a day of 1 million steps. Owns data
generation and timing only; never imported by the product.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import click

from ivr.store import flow_rollups
from ivr.store import models as m
from ivr.store.db import make_engine, upgrade_database
from ivr.store.flow_analytics import figures_from_steps, flow_figures

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
    """A day of calls with about `steps` steps in `url` (migrated first); returns steps.

    Rows are inserted in bulk (2,000 calls a transaction; the writer's fold and rewrite per
    call would take the bench an hour), and each batch's steps go through
    `flow_rollups.count_steps`, the function the writer's `write_record` keeps the rollups
    with, applied as the batch commits, exactly as the writer's transactions are."""
    from sqlalchemy import Table, insert
    from sqlalchemy.orm import Session

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
            with Session(engine) as session, session.begin():
                session.execute(insert(cast(Table, m.CallRow.__table__)), calls)
                session.execute(insert(cast(Table, m.CallStepRow.__table__)), batch)
                flow_rollups.count_steps(session, batch, 1)
            written += len(batch)
    finally:
        engine.dispose()
    return written


def time_report(url: str, day: datetime,
                runs: int = 3) -> tuple[list[float], float, float, bool]:
    """Seconds of each report run (the first straight after the fill), of the same day read
    from the steps alone (what the report did before the rollups), of a day that starts on
    the half hour (a half-hour time zone: its ends are read from the steps), and whether the
    rollups and the steps gave the same figures."""
    engine = make_engine(url)
    took = []
    end = day + timedelta(days=1)
    try:
        t0 = time.perf_counter()
        rows = flow_figures(engine, "shop", day, end)
        took.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        from_steps = figures_from_steps(engine, "shop", day, end)
        steps_s = time.perf_counter() - t0
        for _ in range(runs - 1):
            t0 = time.perf_counter()
            flow_figures(engine, "shop", day, end)
            took.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        flow_figures(engine, "shop", day + timedelta(minutes=30), end + timedelta(minutes=30))
        ragged_s = time.perf_counter() - t0
        assert rows, "no figures: the day was not written"
    finally:
        engine.dispose()
    same = [r.as_dict() for r in rows] == [r.as_dict() for r in from_steps]
    return took, steps_s, ragged_s, same


@click.command("flow-report")
@click.option("--steps", default=1_000_000, show_default=True, help="Steps in the day.")
@click.option("--postgres", default=None, help="Also on this PostgreSQL URL (a scratch schema "
              "is not made: give a database you can fill).")
def command(steps: int, postgres: str | None) -> None:
    """Time flow analytics over one busy day of stored steps (SQLite, and PostgreSQL).

    `first s`: the report straight after the day was written; `warm s`: the best of two
    more; `steps s`: the same day grouped from the steps alone (the report before the
    rollups), after the first; `ragged s`: a day from half past the hour (its two part hours
    read from the steps); `load`: the 1-minute load average as the report ran."""
    day = datetime(2026, 11, 24, 8, tzinfo=UTC)
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        if postgres:
            targets.append(("PostgreSQL", postgres))
        click.echo(f"{'database':<11} {'steps':>9} {'fill s':>7} {'first s':>8} {'warm s':>7} "
                   f"{'steps s':>8} {'ragged s':>8} {'load':>5} same")
        differ = []
        for name, url in targets:
            t0 = time.perf_counter()
            written = fill(url, steps, day)
            filled = time.perf_counter() - t0
            load = os.getloadavg()[0]
            took, steps_s, ragged_s, same = time_report(url, day)
            click.echo(f"{name:<11} {written:>9,} {filled:>7.1f} {took[0]:>8.3f} "
                       f"{min(took[1:]):>7.3f} {steps_s:>8.3f} {ragged_s:>8.3f} {load:>5.1f} "
                       f"{'yes' if same else 'NO'}")
            if not same:
                differ.append(name)
        if differ:
            raise click.ClickException("the rollups' figures differ from the steps' on "
                                       + ", ".join(differ))
