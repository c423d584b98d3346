"""`ivr bench flow-report` at a small size: it fills a day, times the report straight after
the writes and warm, the steps-only read and a day from the half hour, checks that rollups and
steps agree, and prints one row per database with the load average."""

from __future__ import annotations

from click.testing import CliRunner

from devkit.bench.flow_report import command


def test_flow_report_bench_prints_fill_first_warm_steps_load_and_agreement() -> None:
    result = CliRunner().invoke(command, ["--steps", "3000"])
    assert result.exit_code == 0, result.output
    head, row = result.output.splitlines()
    assert head.split() == ["database", "steps", "fill", "s", "first", "s", "warm", "s",
                            "steps", "s", "ragged", "s", "load", "same"]
    name, steps, *seconds, load, same = row.split()
    assert name == "SQLite"
    assert int(steps.replace(",", "")) >= 3000
    assert len(seconds) == 5
    assert all(float(s) >= 0 for s in seconds)
    assert float(load) >= 0
    assert same == "yes"
