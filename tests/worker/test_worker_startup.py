"""The worker's start-up around forks: RQ forks a work horse per job, so the worker's threads
finish the set-up that imports modules before the first fork (queue_worker/worker.py
_start_writer), and `ivr demo` stops work horses that run in a process group of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ivr.commands.demo import Supervisor, session_members
from queue_worker import outcomes, worker


def test_the_worker_waits_for_the_writers_setup_before_working_jobs(
        monkeypatch: pytest.MonkeyPatch):
    set_up_at: list[float] = []

    def slow_writer(config, *, stop, ready, burst=False):  # noqa: ANN001, ARG001
        time.sleep(0.4)  # importing alembic, the driver, the follow-up rules ...
        set_up_at.append(time.monotonic())
        ready.set()
        stop.wait(5)

    monkeypatch.setattr(outcomes, "start_event_writer", slow_writer)
    stop = threading.Event()
    thread = worker._start_writer(object(), stop)
    returned_at = time.monotonic()
    stop.set()
    thread.join(5)
    assert set_up_at
    assert returned_at >= set_up_at[0]


def test_a_writer_that_fails_to_start_does_not_hold_the_worker(monkeypatch: pytest.MonkeyPatch):
    def broken(config, *, stop, ready, burst=False):  # noqa: ANN001, ARG001
        raise RuntimeError("followup.yaml is broken")

    monkeypatch.setattr(outcomes, "start_event_writer", broken)
    started = time.monotonic()
    worker._start_writer(object(), threading.Event()).join(5)
    assert time.monotonic() - started < 5


def test_the_demo_stops_a_work_horse_in_its_own_process_group(tmp_path: Path):
    horse_pid = tmp_path / "horse.pid"
    code = (  # a worker whose job process leaves the worker's group, as RQ's work horse does
        "import os, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setpgid(0, 0)\n"
        f"    open({str(horse_pid)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(120)\n"
        "    os._exit(0)\n"
        "time.sleep(120)\n")
    sup = Supervisor(dict(os.environ), tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    sup.children.append(("worker", proc))
    deadline = time.monotonic() + 10
    while not horse_pid.exists() or not horse_pid.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    horse = int(horse_pid.read_text())
    assert horse in session_members(proc.pid)
    sup.stop()
    deadline = time.monotonic() + 5
    while session_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session_members(proc.pid) == []
    with pytest.raises(ProcessLookupError):
        os.kill(horse, 0)
