"""`ivr report`: per-queue figures for a business day, by hour or for the whole day; and
`ivr report flows`: node by node, where callers of a flow went, retried, gave up and got help.

    ivr report                              # today (business timezone), whole day, all queues
    ivr report --day 2026-12-01 --by hour   # hour by hour
    ivr report --queue support --csv > support.csv
    ivr report flows --flow shop --days 7   # the shop flow over the last 7 business days

Reads DATABASE_URL (or SQLite under the instance folder) and queues.yaml (`reporting:`, each
queue's `service_level_target`). Definitions: docs/reports.md (ivr/domain/reports.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

COLUMNS = (("bucket", "period", 22), ("queue", "queue", 8), ("offered", "offered", 7),
           ("answered", "answered", 8), ("abandoned", "aband.", 6), ("service_level", "SL", 5),
           ("asa", "ASA s", 6), ("aht", "AHT s", 6), ("hold", "hold s", 6),
           ("transfer_rate", "xfer", 5),
           ("in_range_share", "in range", 8), ("range_width", "width s", 7),
           ("containment", "contain", 7),
           ("satisfaction", "CSAT", 5), ("satisfied_share", "4-5", 5), ("fcr", "FCR", 5),
           ("callbacks_kept", "cb kept", 7), ("callbacks_promised", "cb prom", 7))


AGENT_COLUMNS = (("bucket", "period", 22), ("agent", "agent", 8), ("handled", "handled", 7),
                 ("aht", "AHT s", 6), ("talk", "talk s", 6), ("hold", "hold s", 6),
                 ("holds", "holds", 5), ("hold_time", "on hold s", 9),
                 ("after_call", "ACW s", 6), ("transfers", "xfers", 5),
                 ("transfer_rate", "xfer", 5))
RATIOS = {"service_level", "containment", "satisfied_share", "fcr", "in_range_share",
          "transfer_rate"}


def _cell(name: str, value: Any, width: int) -> str:
    if value is None:
        text = "-"
    elif name in RATIOS:
        text = f"{value:.0%}"
    else:
        text = str(value)
    return text.rjust(width) if not isinstance(value, str) else text.ljust(width)


def format_table(rows: list[Any], columns: tuple[tuple[str, str, int], ...] = COLUMNS) -> str:
    """The rows as aligned text (percentages for ratios; '-' for no data)."""
    text_cols = ("bucket", "queue", "agent")
    head = "  ".join(label.ljust(width) if name in text_cols else label.rjust(width)
                     for name, label, width in columns)
    lines = [head]
    for row in rows:
        lines.append("  ".join(_cell(name, getattr(row, name), width)
                               for name, _, width in columns))
    return "\n".join(lines)


@click.command("report")
@click.argument("what", type=click.Choice(["queues", "flows"]), default="queues")
@click.option("--day", default=None, metavar="YYYY-MM-DD",
              help="Business day (queues.yaml reporting.timezone); default today.")
@click.option("--by", type=click.Choice(["hour", "day"]), default="day", show_default=True)
@click.option("--queue", default=None, help="Only this queue.")
@click.option("--flow", default=None, help="flows: the flow id (default: every flow).")
@click.option("--days", default=1, show_default=True, type=click.IntRange(1, 366),
              help="flows: this many business days ending with --day.")
@click.option("--json", "as_json", is_flag=True, help="flows: JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV, every figure, for a spreadsheet.")
def command(what: str, day: str | None, by: str, queue: str | None, flow: str | None,
            days: int, as_json: bool, as_csv: bool) -> None:
    """Offered, answered, abandoned, service level, ASA, AHT (talk + hold + after-call work),
    hold, transfer rate, containment, satisfaction, first-contact resolution and callbacks
    kept, per queue, then per agent (handled, AHT, hold, transfers); or, with `flows`, per
    flow node: entered, next, dropped, retries, reached a person, resolved
    (docs/reports.md)."""
    if what == "flows":
        from ivr.commands.report_flows import report_flows

        report_flows(day, days, flow, as_json, as_csv)
        return
    from ivr.config.reporting import load_report_settings
    from ivr.config.settings import from_env
    from ivr.store.db import database_url, make_engine, upgrade_database
    from ivr.store.reports import day_reports, parse_day, report_csv

    config = from_env()
    settings = load_report_settings(config.queues_file)
    now = datetime.now(UTC)
    when = parse_day(day, settings, now)
    url = database_url(config.database_url, config.instance_dir)
    upgrade_database(url)
    engine = make_engine(url)
    try:
        rows, agents = day_reports(engine, when, by, settings, now, queue)
    finally:
        engine.dispose()
    if as_csv:
        click.echo(report_csv(rows), nl=False)
        return
    click.echo(f"{when.isoformat()} ({settings.timezone}), by {by}; "
               f"definitions: docs/reports.md")
    if not [r for r in rows if r.offered or r.calls or r.callbacks_promised]:
        click.echo("no calls in this period")
        return
    click.echo(format_table([r for r in rows if r.offered or r.calls or r.callbacks_promised]))
    if agents:
        click.echo("\nper agent (AHT = talk + hold + after-call work, over handled calls)")
        click.echo(format_table(agents, AGENT_COLUMNS))
