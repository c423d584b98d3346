"""`ivr bench ewt`: score the product's hold-time estimator on the shared EWT traces.

`ivr bench ewt --stdio` speaks the JSON-lines protocol of `shared/ewt/PROTOCOL.md` on
stdin/stdout. It is a thin adapter: every message becomes a call on `ivr.domain.holdtime`, the
same functions the queue engine uses to announce hold times, so the score is the product's.
Without `--stdio` it runs `shared/ewt/replay.py` over every trace with itself and prints the
table. Owns protocol parsing only; the estimate must not be computed here.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import click

from ivr.domain import holdtime, wait_range
from ivr.domain.holdtime import HoldStats, QueueState, WaitEstimate

DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "ewt"


class ProtocolSession:
    """One queue's estimator as the protocol sees it: learned stats plus the start time of each
    call in progress (the engine knows these from its agents; here they come from events)."""

    def __init__(self, aht_hint: float = 300.0) -> None:
        self.reset({"aht_hint": aht_hint})

    def reset(self, info: dict[str, Any]) -> None:
        hint = info.get("aht_hint")
        if not (isinstance(hint, int | float) and math.isfinite(hint) and hint > 0):
            hint = 300.0  # no configured talk time: a typical one, soon replaced by real calls
        self.stats: HoldStats = holdtime.new_stats(float(hint))
        self.started: dict[int, float] = {}
        self.forecasts: dict[int, WaitEstimate] = {}  # what each waiting caller was told

    def observe(self, event: dict[str, Any]) -> None:
        kind, t = event.get("kind"), float(event.get("t", 0.0))
        if kind == "start":
            self.started[event["cid"]] = t
            self.stats = holdtime.record_answered(self.stats, float(event["wait"]), t)
            told = self.forecasts.pop(event["cid"], None)
            if told is not None:
                self.stats = wait_range.record_range_outcome(self.stats, told,
                                                             float(event["wait"]))
        elif kind == "abandon":
            self.forecasts.pop(event["cid"], None)
            self.stats = holdtime.record_abandoned(self.stats, float(event["wait"]), t)
        elif kind == "end":
            self.started.pop(event["cid"], None)
            self.stats = holdtime.record_call_ended(self.stats, float(event["handle"]), t)
        elif kind == "staff":
            self.stats = holdtime.record_staffing(self.stats, int(event["agents"]), t)

    def predict(self, state: dict[str, Any]) -> dict[str, float]:
        """The answer to one predict: eta and the announced range, as the queue engine
        computes them for a caller joining (ivr/domain/holdtime.py, wait_range.py)."""
        now = float(state["t"])
        snapshot = QueueState(
            queue_len=int(state["queue_len"]),
            agents=int(state["agents"]),
            busy=int(state["busy"]),
            call_ages=tuple(now - t0 for t0 in self.started.values()),
        )
        estimate = holdtime.estimate_wait_range(snapshot, self.stats, now)
        if "cid" in state:
            self.forecasts[int(state["cid"])] = estimate
        low, high = wait_range.announced_range(estimate, self.stats)
        return {"eta": estimate.seconds, "low": low, "high": high}

    def handle(self, msg: dict[str, Any]) -> dict[str, float] | None:
        """Apply one protocol message; the eta to answer for a predict, else None."""
        op = msg.get("op")
        if op == "reset":
            self.reset(msg.get("info") or {})
        elif op == "observe":
            self.observe(msg["event"])
        elif op == "predict":
            return self.predict(msg["state"])
        return None


def serve(stdin: IO[str], stdout: IO[str]) -> None:
    """Answer every predict on `stdin` with one flushed `{"eta": x, "low": l, "high": h}`
    line on `stdout` (PROTOCOL.md, "Announced ranges")."""
    session = ProtocolSession()
    for line in stdin:
        if not line.strip():
            continue
        answer = session.handle(json.loads(line))
        if answer is not None:
            stdout.write(json.dumps(answer) + "\n")
            stdout.flush()


@click.command("ewt")
@click.option("--stdio", is_flag=True, help="Speak the EWT protocol on stdin/stdout.")
@click.option("--shared", "shared", type=click.Path(path_type=Path), default=DEFAULT_SHARED,
              show_default=True, help="The shared/ewt kit (replay.py and traces/).")
@click.option("--trace", "traces", multiple=True, type=click.Path(path_type=Path),
              help="Trace files to replay (default: every traces/*.jsonl of the kit).")
def command(stdio: bool, shared: Path, traces: tuple[Path, ...]) -> None:
    """Hold-time estimator: protocol server (--stdio) or a scored replay of the traces."""
    if stdio:
        serve(sys.stdin, sys.stdout)
        return
    replay = shared / "replay.py"
    if not replay.is_file():
        raise click.ClickException(f"{replay} not found: give --shared pointing at shared/ewt")
    files = [str(p) for p in traces] or sorted(str(p) for p in (shared / "traces").glob("*.jsonl"))
    me = [sys.executable, "-m", "ivr.commands.cli", "bench", "ewt", "--stdio"]
    args = [sys.executable, str(replay), *files, "--label", "ivr holdtime", "--", *me]
    code = subprocess.call(args)
    if code:
        raise SystemExit(code)
