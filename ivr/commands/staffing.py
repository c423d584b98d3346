"""`ivr staffing`: how many agents a queue needs, live or as a calculator.

    ivr staffing [--json]          # live: every queue of the running system (Redis and database)
    ivr staffing --calls-per-hour 120 --aht 300 [--patience 600] --target 0.8/20 [--json]

Live mode is the wallboard's staffing advisor (dashboards/staffing.py): arrivals from the
outcome database, handle time and patience from the hold statistics, the agents working now.

Erlang A when the callers' mean patience is given, Erlang C when it is not (nobody hangs up).
Prints the agents needed for the target and, for that number and a few agents either side,
the predicted service level, abandon rate and ASA (definitions: docs/staffing.md). The
arithmetic lives in ivr/domain/staffing.py; this module parses and prints.
"""

from __future__ import annotations

import json
import re

import click

_TARGET = re.compile(r"^\s*(\d*\.?\d+)\s*(%?)\s*/\s*(\d*\.?\d+)\s*s?\s*$")


def parse_target(text: str) -> tuple[float, float]:
    """"0.8/20" or "80%/20" -> (0.8, 20.0): a share of callers answered within seconds."""
    found = _TARGET.match(text)
    if not found:
        raise click.BadParameter(f"{text!r}: write the target as SHARE/SECONDS, e.g. 0.8/20 "
                                 "or 80%/20")
    share = float(found.group(1)) / (100 if found.group(2) or float(found.group(1)) > 1 else 1)
    if not 0 < share < 1:
        raise click.BadParameter(f"{text!r}: the share must be between 0 and 1 (or 0-100 %)")
    return share, float(found.group(3))


@click.command("staffing")
@click.option("--calls-per-hour", type=click.FloatRange(min=0), default=None,
              help="Calls offered per hour (calculator; omit both for live mode).")
@click.option("--aht", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Average handle time in seconds (talk + hold + after-call work).")
@click.option("--patience", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Callers' mean patience in seconds (Erlang A); omit for Erlang C.")
@click.option("--target", default="0.8/20", show_default=True,
              help="Service-level target: share answered within seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(calls_per_hour: float | None, aht: float | None, patience: float | None,
            target: str, as_json: bool) -> None:
    """Agents needed for a service-level target, with the predicted figures: live for every
    queue without --calls-per-hour/--aht, else for the numbers given."""
    if calls_per_hour is None and aht is None:
        from ivr.commands.staffing_live import live

        live(as_json)
        return
    if calls_per_hour is None or aht is None:
        raise click.UsageError("give both --calls-per-hour and --aht (or neither: live mode)")
    calculate(calls_per_hour, aht, patience, target, as_json)


def calculate(calls_per_hour: float, aht: float, patience: float | None, target: str,
              as_json: bool) -> None:
    from ivr.domain.staffing import Demand, agents_needed, predict

    share, within = parse_target(target)
    try:
        demand = Demand(calls_per_hour / 3600, aht, patience, share, within)
        best = agents_needed(demand)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"agents_needed": best.agents, **{
            k: v for k, v in best.as_dict().items() if k != "agents"},
            "model": "erlang_c" if demand.patient else "erlang_a"}))
        return
    model = "Erlang C (nobody hangs up)" if demand.patient else \
        f"Erlang A (mean patience {patience:g} s)"
    click.echo(f"{calls_per_hour:g} calls/hour, {aht:g} s handle time, {model}, "
               f"load {demand.load:.2f} Erlangs")
    click.echo(f"agents needed for {share:.0%} within {within:g} s: {best.agents}")
    click.echo(f"{'agents':>7} {'service level':>14} {'abandon':>8} {'ASA':>8} {'occupancy':>10}")
    for agents in range(max(1, best.agents - 3), best.agents + 4):
        row = predict(demand, agents)
        asa = "inf" if row.asa == float("inf") else f"{row.asa:.1f}s"
        mark = "  <- needed" if agents == best.agents else ""
        click.echo(f"{agents:>7} {row.service_level:>14.1%} {row.abandon_rate:>8.1%} "
                   f"{asa:>8} {row.occupancy:>10.1%}{mark}")
