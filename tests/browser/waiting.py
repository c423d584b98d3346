"""Waiting for a page and the call centre behind it together.

Playwright's sync API delivers page events (and runs exposed functions) only while the test
waits on Playwright, so a test that waits for the Twilio stand-in or the app's state waits
with `until`, which also runs the routing jobs that are due (tests/e2e/conftest.py
Live.work) between looks. Generous deadlines: the machine is loaded and nothing here may
depend on catching a sub-second window."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(page: Any, done: Callable[[], Any], work: Callable[[], None] | None = None,
          timeout: float = 30.0, what: str = "the condition") -> Any:
    """Wait (letting the page's exposed calls run) until `done()` is truthy; `work` runs
    between looks (the routing jobs)."""
    deadline = time.monotonic() + timeout
    while not (found := done()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if work is not None:
            work()
        page.wait_for_timeout(50)
    return found
