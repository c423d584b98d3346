"""A supervisor watching the wallboard, for soak runs: signs in with the real form (CSRF
token and all), opens `/wallboard`, then follows the stream URL the page gives its
EventSource (the stream service beside the web app, ivr/live/, or the page's own origin),
sending the page's Origin as a browser does, and reads events for as long as the server keeps
the stream open; when it ends it opens it again, as a browser's EventSource does.

Counts events, reconnections and errors (a refused sign-in, a status other than 200, a
dropped connection); the soak fails on errors.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

STREAM_URL = (re.compile(r'data-stream-url="([^"]+)"'),  # the page's status element
              re.compile(r"new EventSource\('([^']+)'"))  # pages before the stream service
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
READ_TIMEOUT = 60.0  # seconds without a byte (the stream sends a heartbeat every 15 s)


@dataclass
class WallboardWatch:
    base_url: str
    username: str
    password: str
    events: int = 0
    streams: int = 0  # streams opened (the first, then each reconnection)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _response: Any = None

    def start(self) -> WallboardWatch:
        threading.Thread(target=self.run, name="wallboard-watch", daemon=True).start()
        return self

    def close(self) -> None:
        self.stop.set()
        if self._response is not None:
            self._response.close()  # wakes a read waiting for the next event

    def run(self) -> None:
        import requests

        session = requests.Session()  # one supervisor: one cookie jar
        while not self.stop.is_set():
            try:
                self._sign_in(session)
                while not self.stop.is_set():
                    self._follow(session, self._stream_url(session))
            except Exception as exc:  # noqa: BLE001 - counted; a watcher keeps watching
                if not self.stop.is_set():
                    self.errors.append(repr(exc)[:200])
                    self.stop.wait(2.0)

    def _sign_in(self, session: Any) -> None:
        page = session.get(f"{self.base_url}/login", timeout=30)
        token = CSRF.search(page.text)
        if page.status_code != 200 or token is None:
            raise ValueError(f"sign-in page: {page.status_code}")
        done = session.post(f"{self.base_url}/login", allow_redirects=False, timeout=30,
                            data={"username": self.username, "password": self.password,
                                  "csrf_token": token.group(1)})
        if done.status_code not in (302, 303):
            raise ValueError(f"sign-in refused: {done.status_code}")

    def _stream_url(self, session: Any) -> str:
        page = session.get(f"{self.base_url}/wallboard", timeout=30)
        found = [m for m in (p.search(page.text) for p in STREAM_URL) if m]
        if page.status_code != 200 or not found:
            raise ValueError(f"/wallboard: {page.status_code}, no stream URL in the page")
        return urljoin(page.url, html.unescape(found[0].group(1)))

    def _follow(self, session: Any, url: str) -> None:
        parts = urlsplit(self.base_url)
        headers = {"Accept": "text/event-stream", "Origin": f"{parts.scheme}://{parts.netloc}"}
        with session.get(url, stream=True, timeout=(10, READ_TIMEOUT), headers=headers) as resp:
            if resp.status_code != 200:
                raise ValueError(f"{url}: {resp.status_code}")
            self._response = resp
            self.streams += 1
            for line in resp.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith(b"data:"):
                    self.events += 1
