"""`ivr bench abuse` at a tiny size: it starts the call centre, plays the baseline and the
abused phase, and prints every figure of its table (speed is the full run's business, not a
test's: nothing here asserts a latency)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from devkit.bench.abuse import command


@pytest.mark.slow
def test_abuse_bench_runs_both_phases_and_reports_every_field() -> None:
    result = CliRunner().invoke(command, [
        "--calls", "4", "--rate", "4", "--duration", "4", "--speed", "10", "--streams", "2",
        "--login-rate", "2", "--oversized-rate", "1", "--agents", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    header = next(line for line in out.splitlines() if "baseline" in line)
    assert "with abuse" in header
    for field in ("calls placed", "on the line at most", "on the line, mean", "webhooks",
                  "webhook p50 ms", "webhook p99 ms",
                  "webhook max ms", "fallback answers", "5xx", "failed connections",
                  "lost calls", "hung up during phase", "records not yet in db"):
        row = next(line for line in out.splitlines() if line.strip().startswith(field + " "))
        assert re.fullmatch(rf"\s*{re.escape(field)}\s+[\d.]+\s+[\d.]+", row), row
    placed = next(line for line in out.splitlines() if "calls placed" in line).split()[-2:]
    assert all(int(n) > 0 for n in placed)  # both phases placed calls
    answered = {kind: line for line in out.splitlines() for kind in (
        "wallboard streams", "login flood", "oversized /voice", "oversized /login")
        if line.strip().startswith(kind)}
    assert len(answered) == 4, out
    assert all(re.search(r"HTTP \d+ x\d+", line) for line in answered.values()), answered
    voice = next(line for line in out.splitlines() if line.strip().startswith("/voice "))
    assert re.fullmatch(r"\s*/voice(\s+\d+\s+[\d.]+\s+/\s*[\d.]+){2}", voice), voice
    assert re.search(r"load average \(1/5/15\).*: baseline [\d.]+ [\d.]+ [\d.]+, "
                     r"with abuse [\d.]+ [\d.]+ [\d.]+", out)
    assert "the abuse process failed" not in out
    assert re.search(r"targets with abuse .*: (met|NOT met)$", out.strip())
