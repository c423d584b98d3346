"""A benchmark's teardown leaves no process behind, even one in a process group of its own.

The server here behaves as an `ivr worker` busy with a job does: its child (RQ's work horse)
calls os.setpgrp(), and on SIGTERM the parent waits for that child (RQ's warm shutdown)
instead of exiting. A soak's teardown once left such a horse running.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

from devkit.bench.webhook import Server

WORKER_WITH_HORSE = """
import os, signal, sys, time
horse = os.fork()
if horse == 0:
    os.setpgrp()
    time.sleep(120)
    os._exit(0)
open(sys.argv[1], "w").write(str(horse))
signal.signal(signal.SIGTERM, lambda *_: None)  # warm shutdown: wait for the horse
while True:
    try:
        os.waitpid(horse, 0)
        break
    except InterruptedError:
        continue
"""


def test_stop_ends_a_child_in_its_own_process_group(tmp_path: Path):
    pid_file = tmp_path / "horse.pid"
    server = Server("worker", 0, workdir=tmp_path)
    server.start_process([sys.executable, "-c", WORKER_WITH_HORSE, str(pid_file)], {})
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)
    horse = psutil.Process(int(pid_file.read_text()))
    assert horse.is_running()
    try:
        server.stop(grace=0.5)
        assert server.proc is not None
        assert server.proc.poll() is not None
        horse.wait(timeout=5)  # raises TimeoutExpired while the horse still runs
    finally:
        if horse.is_running():
            horse.kill()
