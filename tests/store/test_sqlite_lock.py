"""Other processes get SQLite's write lock while a busy writer runs back-to-back transactions
(a follow-up SMS job failed with "database is locked" after its 30 s busy timeout while the
outcome writer was behind)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text

from ivr.store.db import make_engine
from ivr.store.sqlite_lock import WRITE_LOCK_GAP, WriteLockShare

WAITER = """
import sys, time
from sqlalchemy import text
from ivr.store.db import make_engine
engine = make_engine(sys.argv[1], connect_args={"timeout": 2})
started = time.monotonic()
with engine.begin() as conn:
    conn.execute(text("INSERT INTO t VALUES (2)"))
print(f"{time.monotonic() - started:.2f}")
"""


def test_a_waiting_process_gets_the_lock_from_a_writer_that_never_pauses(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/outcomes.sqlite3"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    stop = threading.Event()

    def write_back_to_back() -> None:
        while not stop.is_set():
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
                time.sleep(0.02)  # the lock is held while the events are applied

    writer = threading.Thread(target=write_back_to_back)
    writer.start()
    try:
        time.sleep(0.5)
        waited = subprocess.run([sys.executable, "-c", WAITER, url], capture_output=True,
                                text=True, timeout=60)
    finally:
        stop.set()
        writer.join(10)
        engine.dispose()
    assert waited.returncode == 0, waited.stderr[-800:]
    assert float(waited.stdout) < 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_the_gap_comes_after_a_second_of_back_to_back_transactions_only():
    clock = Clock()
    share = WriteLockShare(clock=lambda: clock.now, sleep=clock.sleep)
    for _ in range(25):  # 50 ms transactions, back to back: 1.25 s
        share.before_begin()
        clock.now += 0.05
        share.after_end()
    assert clock.slept == [WRITE_LOCK_GAP]
    clock.now += 5  # the writer waited for events: the lock was free
    for _ in range(10):
        share.before_begin()
        clock.now += 0.05
        share.after_end()
    assert clock.slept == [WRITE_LOCK_GAP]
