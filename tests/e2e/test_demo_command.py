"""`ivr demo` as a newcomer runs it: it serves within a minute, simulated callers move the
figures, `ivr call` works against it, the wallboard's stream service answers where the banner
says, and Ctrl-C (SIGINT) stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devkit.bench.webhook import free_port

pytestmark = pytest.mark.slow


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, grandchildren, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left


def webhooks_served(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return sum(float(m) for m in re.findall(
        r'^ivr_webhook_seconds_count\{[^}]*\} ([0-9.e+]+)$', text, re.M))


def wait(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def test_demo_serves_moves_takes_a_call_and_stops_everything_on_ctrl_c(tmp_path: Path):
    port, standin_port, streams_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["IVR_INSTANCE_DIR"] = str(tmp_path / "instance")
    out = (tmp_path / "demo.out").open("wb")
    demo = subprocess.Popen([sys.executable, "-m", "ivr.commands.cli", "demo", "--port", str(port),
                             "--standin-port", str(standin_port), "--streams-port",
                             str(streams_port)], env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    try:
        assert wait(lambda: webhooks_served(port) > 0, 90), (tmp_path / "demo.out").read_text()
        first = webhooks_served(port)
        assert wait(lambda: webhooks_served(port) > first, 30)  # the callers keep coming
        call = subprocess.run(
            [sys.executable, "-m", "ivr.commands.cli", "call", "--standin",
             f"http://127.0.0.1:{standin_port}", "--to", "+14155550100", "--press", "1,1"],
            env=env, capture_output=True, text=True, timeout=60)
        assert call.returncode == 0, call.stdout + call.stderr
        streams = f"http://127.0.0.1:{streams_port}"
        assert f"{streams}/wallboard/events" in (tmp_path / "demo.out").read_text()
        with urllib.request.urlopen(f"{streams}/healthz", timeout=5) as resp:
            assert resp.status == 200
        started = descendants(demo.pid)
        assert len(started) >= 5  # Redis, stand-in, web, streams, worker, callers
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=40)
    finally:
        if demo.poll() is None:  # a failed check above: still stop what the demo started
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=40)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
        out.close()
    deadline = time.monotonic() + 10
    while (left := {pid for pid in started if alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"left running after Ctrl-C: {sorted(left)}"
    assert "stopping everything it started" in (tmp_path / "demo.out").read_text()
