"""`ivr bench flow-report` at a small size: it fills a day, times the report before and after
the table is vacuumed/analysed, and prints one row per database."""

from __future__ import annotations

from click.testing import CliRunner

from devkit.bench.flow_report import command


def test_flow_report_bench_prints_fill_first_warm_and_vacuumed() -> None:
    result = CliRunner().invoke(command, ["--steps", "3000"])
    assert result.exit_code == 0, result.output
    head, row = result.output.splitlines()
    assert head.split() == ["database", "steps", "fill", "s", "first", "s", "warm", "s",
                            "vacuumed", "s"]
    name, steps, *seconds = row.split()
    assert name == "SQLite"
    assert int(steps.replace(",", "")) >= 3000
    assert len(seconds) == 4
    assert all(float(s) >= 0 for s in seconds)
