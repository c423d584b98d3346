"""The Voice SDK test double (voice_sdk_double.js) for the browser tests, and its wiring to
the Twilio stand-in's simulated client legs (`/sim/clients/<identity>/...`,
devkit/twilio_standin): the page calls `window.simClient(method, path, body)`, which runs
here and calls the stand-in over HTTP (a Playwright-exposed function, so the page makes no
cross-origin request and its Content-Security-Policy stays as served). Served only to tests:
nothing under dashboards/ knows the double exists.

Playwright's sync API runs exposed functions only while the test waits on Playwright, so a
test waits with `until`, which also runs the routing jobs that are due (tests/e2e/conftest.py
Live.work)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

DOUBLE = Path(__file__).with_name("voice_sdk_double.js")


def install(context: Any, api_base: str) -> requests.Session:
    """Every page of `context` gets the double instead of `Twilio.Device`, wired to the
    stand-in at `api_base`. A stand-in refusal (4xx) rejects the page's promise."""
    session = requests.Session()

    def sim_client(method: str, path: str, body: Any) -> Any:
        answer = session.request(method, api_base.rstrip("/") + path, json=body, timeout=10)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    context.expose_function("simClient", sim_client)
    context.add_init_script(path=str(DOUBLE))
    return session


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
