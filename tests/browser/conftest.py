"""Browser-test plumbing: one headless Chromium per test module (a launch costs about a
second; each test still gets a fresh context, so no cookies leak between tests), a live
HTTP server that a test can stop and restart on the same port, and an axe-core check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


class LiveServer:
    """werkzeug's threaded server for `app` on 127.0.0.1 (a free port, kept across restarts)."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self.app, self.port = app, port
        self.server: Any = None
        self.thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(5)


def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA
    rules), one line each: rule, help text and the offending elements."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
      const r = await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.help + ' ['
          + v.nodes.map(n => n.target.join(' ')).join(', ') + ']');
    }""")


def screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
