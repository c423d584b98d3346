"""Browser-test plumbing: one headless Chromium per test module (a launch costs about a
second; each test still gets a fresh context, so no cookies leak between tests), a live
HTTP server that a test can stop and restart on the same port, and an axe-core check.

Every context a test opens is watched for Content-Security-Policy violations (the pages run
under ivr/web/security_headers.py's policy): a `securitypolicyviolation` event in any page, or
Chromium's own "Refused to ..." console message, fails the test that caused it (fixture
`no_csp_violations`, autouse). A page that needs an inline script or style the policy blocks
would otherwise fail quietly in production while its test, without the header, passed."""

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


CSP_MARK = "CSP violation:"
# Runs in every page before its own scripts: the event reaches the document for blocked
# scripts, styles, connections and frames alike.
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
    + ' at ' + e.sourceFile + ':' + e.lineNumber);
}, true);"""
VIOLATIONS: list[str] = []  # filled by every watched context, emptied by no_csp_violations


def _note_violation(message: Any) -> None:
    text = message.text
    if text.startswith(CSP_MARK) or text.startswith("Refused to "):
        VIOLATIONS.append(f"{message.page.url if message.page else '?'}: {text}")


class WatchedBrowser:
    """The Playwright Browser, with every new context watched for CSP violations."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("console", _note_violation)
        return context

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield WatchedBrowser(chromium)
        chromium.close()


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[list[str]]:
    """Fails the test when any page it opened reported a CSP violation. Torn down after the
    test's own fixtures have closed their contexts, so every page event has been delivered."""
    VIOLATIONS.clear()
    yield VIOLATIONS
    found, VIOLATIONS[:] = list(VIOLATIONS), []
    assert found == [], "the page broke its Content-Security-Policy:\n" + "\n".join(found)


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
    page.evaluate(AXE.read_text() + "\n;true")  # not a <script> tag: the page's CSP blocks that
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
