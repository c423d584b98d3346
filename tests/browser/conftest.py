"""Browser-test plumbing: one headless Chromium per test module (a launch costs about a
second; each test still gets a fresh context, so no cookies leak between tests), a live
HTTP server that a test can stop and restart on the same port, and an axe-core check.

Every context a test opens is watched for Content-Security-Policy violations (the pages run
under ivr/web/security_headers.py's policy): a `securitypolicyviolation` event in any page, or
Chromium's own "Refused to ..." console message, fails the test that caused it (fixture
`no_csp_violations`, autouse). A page that needs an inline script or style the policy blocks
would otherwise fail quietly in production while its test, without the header, passed.

`floor` is the e2e call centre (tests/e2e/conftest.py `live`) with a browser context, for the
softphone tests (tests/browser/softphone_floor.py has their moves)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import tests.e2e.conftest as e2e
from tests.browser.softphone_floor import RING_SECONDS, SLOWER, new_context
from tests.e2e.conftest import live  # noqa: F401 - the call centre `floor` stands on
from tests.signin import add_users

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
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)  # stop() waits a 50 ms poll, not 0.5 s
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


@pytest.fixture
def floor(live, browser, monkeypatch):  # type: ignore[no-untyped-def]  # noqa: F811 - live: below
    """The e2e call centre (tests/e2e/conftest.py: app, stand-in, routing jobs) with agent
    alice (client:alice), a supervisor, and a browser context: on the stand-in the console's
    softphone is the demo phone."""
    monkeypatch.setattr(e2e, "SPEED", SLOWER)  # legs read it when they start
    add_users(live.app.config["IVR"].instance_dir, alice="agent", sue="supervisor")
    # Twilio's longest ring (Timeout 600; the stand-in refuses more): 100 s of real ringing at
    # SLOWER. Every ring here is answered or rejected by the test, never left to time out.
    live.configure_queue("support", ring_timeout=RING_SECONDS)
    context = new_context(browser)
    yield live, context
    context.close()
