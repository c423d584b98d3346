"""Abuse aimed at a running app on 127.0.0.1, for `ivr bench abuse`: open wallboard streams
signed in as a supervisor, a login flood with wrong passwords, and oversized request bodies.

Every kind is bounded in count and time: `run_abuse` ends its traffic after `duration`
seconds, streams included (their responses are closed from here), and returns what the server
answered, as counts by HTTP status (0: the connection failed or was cut, as a server may do
to a body it will not read). It runs in its own process (`spawn_abuse`), so its threads do
not share a GIL with the simulated callers whose webhook latency is being measured.

The stream's URL is read from the wallboard page (`data-stream-url`, set when a separate
stream service serves it, IVR_STREAM_URL), else the page's own `/wallboard/events`.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

MIB = 1024 * 1024
STREAM_URL = re.compile(r'data-stream-url="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FLOOD_USERS = ("admin", "root", "supervisor", "operator")


@dataclass(frozen=True)
class AbusePlan:
    base_url: str
    username: str  # a supervisor's, for the streams
    password: str
    duration: float
    streams: int = 50
    login_rate: float = 20.0  # wrong-password attempts per second
    oversized_rate: float = 2.0  # 2 MiB posts per second to each of /voice and /login
    body_bytes: int = 2 * MIB


@dataclass
class Tally:
    """Counts by what happened, shared by the threads of one abuse kind."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


def signed_in(plan: AbusePlan, tries: int = 6) -> requests.Session:
    """A session signed in as the plan's supervisor (CSRF token from the form first); a
    server too busy to answer in time is asked again, up to `tries` times."""
    for attempt in range(tries):
        try:
            return _sign_in(plan)
        except requests.RequestException:
            if attempt == tries - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def _sign_in(plan: AbusePlan) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{plan.base_url}/login", timeout=30)
    token = CSRF.search(form.text)
    resp = session.post(f"{plan.base_url}/login", timeout=30, allow_redirects=False, data={
        "username": plan.username, "password": plan.password,
        "csrf_token": token.group(1) if token else ""})
    if resp.status_code != 303:
        raise RuntimeError(f"supervisor sign-in answered {resp.status_code}")
    return session


def stream_url(plan: AbusePlan, session: requests.Session) -> str:
    page = session.get(f"{plan.base_url}/wallboard", timeout=30)
    found = STREAM_URL.search(page.text)
    if found and found.group(1).startswith("http"):
        return found.group(1).replace("&amp;", "&")
    if found and found.group(1).startswith("/"):
        return plan.base_url + found.group(1)
    return f"{plan.base_url}/wallboard/events"


def hold_stream(url: str, cookie: str, origin: str, until: float, tally: Tally,
                open_now: list[Any]) -> None:
    """One wall screen: keep a stream open until `until`, reconnecting as EventSource does.
    The session cookie is sent as a header: the stream service may be on another port."""
    headers = {"Accept": "text/event-stream", "Origin": origin, "Cookie": cookie}
    while time.monotonic() < until:
        try:
            resp = requests.get(url, stream=True, timeout=(5, 30), headers=headers)
        except requests.RequestException:
            tally.add("connect failed")
            time.sleep(1.0)
            continue
        tally.add(f"HTTP {resp.status_code}")
        if resp.status_code != 200:
            resp.close()
            time.sleep(2.0)
            continue
        open_now.append(resp)
        try:
            for line in resp.iter_lines():
                if line.startswith(b"data:"):
                    tally.add("events")
                if time.monotonic() >= until:
                    break
        except (requests.RequestException, AttributeError, ValueError, OSError):
            pass  # closed from run_abuse at the end, or cut by the server
        finally:
            resp.close()


def flood_logins(plan: AbusePlan, until: float, tally: Tally) -> None:
    """Wrong passwords at `login_rate` a second, spread over a few names, each sender with
    the login form's CSRF token as a browser would have (fetched again until it comes: a
    server too busy to give it counts as a failed attempt, HTTP 0)."""
    local = threading.local()

    def attempt(i: int) -> Any:
        if getattr(local, "token", None) is None:
            local.session = requests.Session()
            form = local.session.get(f"{plan.base_url}/login", timeout=10)
            found = CSRF.search(form.text)
            local.token = found.group(1) if found else ""
        return local.session.post(f"{plan.base_url}/login", timeout=10, allow_redirects=False,
                                  data={"username": FLOOD_USERS[i % len(FLOOD_USERS)],
                                        "password": f"wrong-{i}", "csrf_token": local.token})

    paced(plan.login_rate, until, tally, attempt)


def post_oversized(plan: AbusePlan, path: str, until: float, tally: Tally) -> None:
    body = b"Digits=" + b"1" * (plan.body_bytes - 7)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    paced(plan.oversized_rate, until, tally, lambda _i: requests.post(
        f"{plan.base_url}{path}", data=body, headers=headers, timeout=10,
        allow_redirects=False))


def paced(rate: float, until: float, tally: Tally, send: Any, threads: int = 4) -> None:
    """Call `send(i)` `rate` times a second until `until` (a few threads, so a slow answer
    does not slow the pace), counting answers by status."""
    if rate <= 0:
        return
    step = threads / rate

    def one(first: int) -> None:
        i, next_at = first, time.monotonic() + first / rate
        while next_at < until:
            time.sleep(max(0.0, next_at - time.monotonic()))
            try:
                tally.add(f"HTTP {send(i).status_code}")
            except requests.RequestException:
                tally.add("HTTP 0")
            i, next_at = i + threads, next_at + step

    workers = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def run_abuse(plan: AbusePlan) -> dict[str, dict[str, int]]:
    """All four kinds at once for `plan.duration` seconds (signing in counts towards them, so
    the abuse ends with the phase's calls); counts per kind."""
    until = time.monotonic() + plan.duration
    session = signed_in(plan)
    url = stream_url(plan, session)
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    tallies = {k: Tally() for k in ("streams", "logins", "oversized /voice", "oversized /login")}
    open_now: list[Any] = []
    threads = [threading.Thread(target=hold_stream, daemon=True, args=(
        url, cookie, plan.base_url, until, tallies["streams"], open_now))
        for _ in range(plan.streams)]
    threads += [
        threading.Thread(target=flood_logins, args=(plan, until, tallies["logins"])),
        threading.Thread(target=post_oversized, args=(plan, "/voice", until,
                                                      tallies["oversized /voice"])),
        threading.Thread(target=post_oversized, args=(plan, "/login", until,
                                                      tallies["oversized /login"]))]
    for t in threads:
        t.start()
    time.sleep(max(0.0, until - time.monotonic()))
    for resp in list(open_now):
        resp.close()  # a stream reader blocked in a read ends now, not at its read timeout
    for t in threads:
        t.join(timeout=15)
    result = {kind: dict(t.counts) for kind, t in tallies.items()}
    result["streams"]["url " + url] = 1
    return result


def _child(plan: AbusePlan, out: Any) -> None:
    try:
        out.put(run_abuse(plan))
    except Exception as exc:  # noqa: BLE001 - reported by the parent, which prints it
        out.put({"error": {f"{type(exc).__name__}: {exc}": 1}})


def spawn_abuse(plan: AbusePlan) -> tuple[Any, Any]:
    """Start `run_abuse` in a fresh process; `collect` its counts when the phase ends."""
    ctx = mp.get_context("spawn")  # never fork a process full of stand-in threads
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=(plan, out), daemon=True)
    proc.start()
    return proc, out


def collect(proc: Any, out: Any, timeout: float) -> dict[str, dict[str, int]]:
    try:
        result: dict[str, dict[str, int]] = out.get(timeout=timeout)
    except Exception:  # noqa: BLE001 - queue.Empty: the child hung or died
        result = {"error": {"the abuse process did not report": 1}}
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
    return result
