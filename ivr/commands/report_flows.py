"""`ivr report flows`: flow analytics in the terminal (ivr/store/flow_analytics.py).

Reads the same database as `ivr report` and the live flow files for each node's type (a
hang-up node ends calls by design, so a call that ends there is not a drop-off)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click

COLUMNS = (("node", 18), ("entered", 7), ("callers", 7), ("dropped", 7), ("drop", 5),
           ("no_input", 8), ("no_match", 8), ("gave_up", 7), ("human", 5),
           ("reached_person", 7), ("resolved", 8), ("seconds", 7))


def _cell(name: str, value: Any, width: int) -> str:
    if value is None:
        return "-".rjust(width)
    if name == "node":
        return str(value)[:width].ljust(width)
    return (f"{value:.0%}" if name == "drop" else str(value)).rjust(width)


def report_flows(day: str | None, days: int, flow: str | None, as_json: bool,
                 as_csv: bool) -> None:
    from ivr.config.reporting import load_report_settings
    from ivr.config.settings import from_env
    from ivr.domain.reports import day_buckets
    from ivr.store.db import database_url, make_engine, upgrade_database
    from ivr.store.flow_analytics import flow_figures, flows_csv, flows_json
    from ivr.store.reports import parse_day

    config = from_env()
    settings = load_report_settings(config.queues_file)
    last = parse_day(day, settings, datetime.now(UTC))
    first = day_buckets(last - timedelta(days=days - 1), "day", settings.timezone)[0]
    end = day_buckets(last, "day", settings.timezone)[0]
    start, until = datetime.fromtimestamp(first.start, UTC), datetime.fromtimestamp(end.end, UTC)
    types = _node_types(config)
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url)
    try:
        flows = [flow] if flow else sorted(types)
        results = {f: flow_figures(engine, f, start, until, types.get(f, {})) for f in flows}
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps([flows_json(r, f, start, until) for f, r in results.items()]))
    elif as_csv:
        for f, rows in results.items():
            click.echo(f"# flow {f}\n" + flows_csv(rows), nl=False)
    else:
        for f, rows in results.items():
            _print(f, rows, start, until)


def _print(flow: str, rows: list[Any], start: datetime, until: datetime) -> None:
    click.echo(f"flow {flow}, calls started {start.isoformat()} to {until.isoformat()}; "
               "definitions: docs/reports.md")
    if not rows:
        click.echo("no calls in this period")
        return
    click.echo("  ".join(name[:w].ljust(w) if name == "node" else name[:w].rjust(w)
                         for name, w in COLUMNS))
    for row in rows:
        data = {**row.as_dict(), "drop": row.drop_rate}
        click.echo("  ".join(_cell(name, data[name], w) for name, w in COLUMNS))


def _node_types(config: Any) -> dict[str, dict[str, str]]:
    """flow id -> node id -> node type, from the live flow files (empty when none load)."""
    from ivr.domain.errors import FlowErrors
    from ivr.flows.registry import flow_files, load_files
    from ivr.prompts.catalog import load_catalog

    try:
        flows = load_files(flow_files(config.flows_dir), load_catalog(config.prompts_catalog))
    except FlowErrors:
        return {}
    return {fid: {nid: n.type_name for nid, n in f.nodes.items()} for fid, f in flows.items()}
