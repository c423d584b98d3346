"""A durable local spool for webhooks whose work could not reach Redis (it was restarting).

Twilio does not retry a status callback that failed, so a call that ended while Redis was away
would never get its `call_ended` record. The status and recording callbacks therefore write
what they received to a file under the instance folder (one JSON line, flushed and fsynced
before the 200 goes back to Twilio) and a background thread applies the lines once Redis
answers again. Applying twice is harmless: the handlers are idempotent (the `call_ended` event
has a stable id, leaving a queue twice is a no-op), so a crash between applying and removing
a line at worst repeats it.

Each process appends to its own file (`<host>-<pid>.jsonl`); a drain claims a file by
renaming it, so several processes on one machine never apply one line concurrently, and a
file left by a killed process is taken over by the next drain (a claim idle for more than
`STALE_CLAIM` seconds is taken over too). Must not import Flask.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STALE_CLAIM = 30.0  # seconds: a claimed file this old belongs to a process that died draining
Record = dict[str, Any]


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def _own_file(self) -> Path:
        return self.directory / f"{socket.gethostname()}-{os.getpid()}.jsonl"

    def put(self, record: Record) -> None:
        """Append one record durably (fsync) before returning."""
        line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._own_file().open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def pending(self) -> bool:
        try:
            return any(self._claimable())
        except FileNotFoundError:
            return False

    def held(self) -> int:
        """How many records this folder holds, claimed or not. Taken under this process's
        lock, so a drain of our own is never seen halfway (claimed, or written back twice);
        another process's drain can still be."""
        with self._lock:
            count = 0
            for path in [*self.directory.glob("*.jsonl"), *self.directory.glob("*.draining")]:
                try:
                    count += len(path.read_text(encoding="utf-8").splitlines())
                except FileNotFoundError:
                    continue
            return count

    def _claimable(self) -> list[Path]:
        now = time.time()
        found = sorted(self.directory.glob("*.jsonl"))
        for claimed in sorted(self.directory.glob("*.draining")):
            try:
                if now - claimed.stat().st_mtime > STALE_CLAIM:
                    found.append(claimed)
            except FileNotFoundError:
                continue
        return found

    def drain(self, apply: Callable[[Record], None]) -> int:
        """Apply every spooled record, oldest file first; returns how many were applied. A
        record whose `apply` raises stays spooled (with the ones after it) for the next drain."""
        applied = 0
        with self._lock:
            try:
                files = self._claimable()
            except FileNotFoundError:
                return 0
            for path in files:
                claimed = path.with_name(f"{uuid.uuid4().hex}.draining")
                try:
                    os.replace(path, claimed)
                except FileNotFoundError:  # another process claimed it first
                    continue
                done, left = _apply_lines(claimed, apply)
                applied += done
                if left:
                    with self._own_file().open("a", encoding="utf-8") as fh:
                        fh.writelines(left)
                        fh.flush()
                        os.fsync(fh.fileno())
                claimed.unlink()
                if left:
                    break
        return applied


def _apply_lines(path: Path, apply: Callable[[Record], None]) -> tuple[int, list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    applied = 0
    for i, line in enumerate(lines):
        try:
            record = json.loads(line)
        except ValueError:  # a torn last line from a crash mid-write: nothing to apply
            log.error("spool %s: unreadable line dropped: %r", path.name, line[:200])
            continue
        try:
            apply(record)
        except Exception as exc:  # noqa: BLE001 - Redis still away: keep it for later
            log.warning("spool: %s for call %s not applied yet (%s)", record.get("kind"),
                        record.get("call"), exc)
            return applied, lines[i:]
        applied += 1
    return applied, []


class SpoolDrainer:
    """A daemon thread that drains `spool` every `every` seconds while it holds records."""

    def __init__(self, spool: Spool, apply: Callable[[Record], None], every: float = 2.0):
        self.spool, self.apply, self.every = spool, apply, every
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def wake(self) -> None:
        """Make sure the thread runs (idempotent); it stops itself when the spool is empty."""
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="spool-drainer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            applied = self.spool.drain(self.apply)
            if applied:
                log.info("spool: applied %d deferred webhook(s)", applied)
            with self._start_lock:
                if not self.spool.pending():
                    self._thread = None
                    return
