"""Stopping a server a benchmark started, with every process it started in turn.

A server is started in a session of its own (`Server.start_process`), so one signal to its
process group reaches gunicorn's workers or an `ivr worker`'s scheduler. Not everything stays
in that group: RQ's work horse calls `os.setpgrp()` (rq/worker/worker_classes.py), and a worker
that is still waiting for its horse when it is killed leaves the horse running, reparented to
init (a soak's teardown once left an `ivr.commands.cli worker` horse behind). So the process tree is
read before anything is signalled, and every group in it is stopped, then checked.
"""

from __future__ import annotations

import os
import signal

import psutil

KILL_WAIT = 5.0  # seconds for processes to go after SIGKILL


def tree(pid: int) -> list[psutil.Process]:
    """`pid` and its descendants, as they are now (empty when `pid` has ended)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def signal_groups(procs: list[psutil.Process], sig: signal.Signals) -> None:
    """Send `sig` to every process group in `procs` (never to this process's own group)."""
    own = os.getpgrp()
    for group in {_group(p) for p in procs} - {None, own}:
        try:
            os.killpg(group, sig)  # type: ignore[arg-type]
        except ProcessLookupError:
            pass


def _group(proc: psutil.Process) -> int | None:
    try:
        return os.getpgid(proc.pid)
    except ProcessLookupError:
        return None


def running(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those of `procs` still running (a zombie waiting for init counts as gone)."""
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            continue
    return alive


def stop_tree(pid: int, grace: float) -> list[int]:
    """SIGTERM every process group of `pid`'s tree, wait up to `grace` seconds, then SIGKILL
    every group of what remains (with what it forked meanwhile). Returns the pids still running
    after that: empty when the whole tree is gone, which callers check."""
    procs = tree(pid)
    signal_groups(procs, signal.SIGTERM)
    _gone, alive = psutil.wait_procs(procs, timeout=grace)
    alive = running(alive)
    if alive:
        later = {p.pid: p for a in alive for p in tree(a.pid)}
        procs = list({**{p.pid: p for p in alive}, **later}.values())
        signal_groups(procs, signal.SIGKILL)
        for proc in procs:  # a process that left its group
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=KILL_WAIT)
        alive = running(procs)
    return [p.pid for p in alive]
