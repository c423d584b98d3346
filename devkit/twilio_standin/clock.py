"""Time for the simulator. Hold loops, pauses and timeouts advance a clock; with `SimClock`
no real time passes (tests stay fast), with `RealClock` the leg really waits (the demo).

`sleep()` takes a `wake` event: a REST update to the leg sets it, so a waiting leg reacts at
once instead of after its full pause.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds, monotonic; only differences matter."""
        ...

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Let `seconds` pass, returning early (real clock) when `wake` is set."""
        ...


class SimClock:
    """Simulated time. `yield_seconds` is the real time given up per sleep while a `wake`
    event is passed, so other threads (the stand-in's REST handlers) get to act between hold
    loops; 0 means never block."""

    def __init__(self, start: float = 0.0, yield_seconds: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.yield_seconds = yield_seconds

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
        if wake is not None and self.yield_seconds > 0:
            wake.wait(self.yield_seconds)


class RealClock:
    """Wall time, optionally sped up (`speed=10` makes a 30 s hold loop last 3 s)."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._start = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._start) * self.speed

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        real = max(0.0, seconds) / self.speed
        if wake is not None:
            wake.wait(real)
        else:
            time.sleep(real)
