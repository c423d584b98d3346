"""`ivr bench ewt --stdio` speaks the EWT protocol: replayed by the kit's own replay.py."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.bench.ewt import ProtocolSession, serve

SHARED = Path(__file__).resolve().parents[1] / "kits" / "ewt"  # vendored from shared/ewt
TINY = SHARED / "traces" / "tiny.jsonl"
IVR = Path(sys.executable).with_name("ivr")

needs_kit = pytest.mark.skipif(not TINY.is_file(), reason=f"shared/ewt kit not found at {SHARED}")


@needs_kit
def test_replay_of_tiny_trace_answers_every_caller(tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    cmd = [str(IVR), "bench", "ewt", "--stdio"] if IVR.exists() else \
        [sys.executable, "-m", "ivr.commands.cli", "bench", "ewt", "--stdio"]
    done = subprocess.run([sys.executable, str(SHARED / "replay.py"), str(TINY), "--json",
                           str(out), "--", *cmd], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    (res,) = json.loads(out.read_text())
    header = json.loads(TINY.open().readline())
    assert res["n_arrivals"] == header["counts"]["arrivals"] == 122
    assert res["negative_etas"] == 0
    assert res["served"]["n"] == header["counts"]["answered_scored"]
    assert 0.5 < res["ranges"]["coverage"] <= 1.0  # the answers carry ranges
    # a real estimator, not a constant: clearly better than Asterisk's announcement
    assert res["vs_asterisk"] < 0.8


@needs_kit
def test_in_process_session_over_tiny_trace() -> None:
    lines = [json.loads(x) for x in TINY.read_text().splitlines()]
    stdin = io.StringIO()
    stdin.write(json.dumps({"op": "reset", "info": lines[0]["info"]}) + "\n")
    for d in lines[1:]:
        if d["kind"] == "outcome":
            continue
        if d["kind"] == "arrival":
            stdin.write(json.dumps({"op": "predict", "state": d.pop("state")}) + "\n")
        stdin.write(json.dumps({"op": "observe", "event": d}) + "\n")
    stdout = io.StringIO()
    serve(io.StringIO(stdin.getvalue()), stdout)
    answers = [json.loads(x) for x in stdout.getvalue().splitlines()]
    assert len(answers) == 122
    assert all(math.isfinite(a["eta"]) and 0 <= a["low"] <= a["high"] for a in answers)
    assert all(a["low"] <= a["eta"] <= a["high"] for a in answers if a["eta"] > 0)


def test_session_ignores_unknown_fields_and_resets() -> None:
    session = ProtocolSession()
    session.handle({"op": "reset", "info": {"aht_hint": None}})
    session.handle({"op": "observe", "event": {"kind": "start", "t": 1.0, "cid": 0, "wait": 0.0}})
    session.handle({"op": "observe", "event": {"kind": "mystery", "t": 2.0}})
    state = {"t": 5.0, "cid": 1, "queue_len": 0, "busy": 1, "agents": 1, "new_field": [1]}
    assert session.handle({"op": "predict", "state": state})["eta"] == pytest.approx(300.0)
    session.handle({"op": "reset", "info": {"aht_hint": 60.0}})
    assert session.started == {}
    assert session.handle({"op": "predict", "state": state})["eta"] == pytest.approx(60.0)


@needs_kit
def test_bench_without_stdio_prints_the_table() -> None:
    from click.testing import CliRunner

    from ivr.commands.cli import main

    done = subprocess.run([sys.executable, "-m", "ivr.commands.cli", "bench", "ewt", "--shared",
                           str(SHARED), "--trace", str(TINY)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ivr holdtime" in done.stdout
    assert "oracle (physical limit)" in done.stdout
    missing = CliRunner().invoke(main, ["bench", "ewt", "--shared", "/nonexistent"])
    assert missing.exit_code == 1
    assert "replay.py" in missing.output
