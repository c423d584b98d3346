"""Running the stream service: as `ivr streams`, and as a child of `ivr serve`.

`serve_streams` runs the aiohttp application until told to stop; a client that goes away
frees its slot at once (aiohttp's handler cancellation), and stopping ends open streams within
SHUTDOWN_SECONDS. `run_streams` is the process: SIGTERM and SIGINT stop it cleanly, and when it
was started by `ivr serve` it also stops when that parent is gone (a web server killed with
SIGKILL must not leave an orphan holding the port).

`ivr serve` starts the service beside the web app (`start_child`) and, when IVR_STREAM_URL is
unset, tells the web app where browsers find it (`browser_stream_url`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from aiohttp import web

SHUTDOWN_SECONDS = 5.0  # open streams are ended at once; this bounds the rest
PARENT_CHECK_SECONDS = 1.0
WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


async def serve_streams(app: web.Application, host: str, port: int, stop: asyncio.Event,
                        on_ready: Callable[[int], None] | None = None) -> None:
    """Serve `app` on host:port (0: a free port, passed to `on_ready`) until `stop` is set."""
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=SHUTDOWN_SECONDS,
                           access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        if on_ready is not None:
            on_ready(int(runner.addresses[0][1]))
        await stop.wait()
    finally:
        await runner.cleanup()


def run_streams(app: web.Application, host: str, port: int,
                parent_pid: int | None = None,
                on_ready: Callable[[int], None] | None = None) -> None:
    """The stream service process: serve until SIGTERM/SIGINT, or until `parent_pid` is no
    longer this process's parent."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        watch = None
        if parent_pid is not None:
            watch = asyncio.create_task(_watch_parent(parent_pid, stop))
        try:
            await serve_streams(app, host, port, stop, on_ready)
        finally:
            if watch is not None:
                watch.cancel()

    asyncio.run(main())


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if os.getppid() != parent_pid:
            stop.set()
            return
        await asyncio.sleep(PARENT_CHECK_SECONDS)


def browser_stream_url(host: str, port: int, public_base_url: str) -> str | None:
    """Where a browser finds a stream service that `ivr serve` started on host:port, or None
    when it should use the page's own origin.

    A concrete host (127.0.0.1, a LAN address) is what the browser uses for the pages too:
    `http://host:port`. On a wildcard host (0.0.0.0: a container, a proxy in front) the
    public origin decides: behind https a TLS proxy routes `/wallboard/events` to the stream
    service (same origin, None); over plain http the public host name with the stream port."""
    if host not in WILDCARD_HOSTS:
        return f"http://{url_host(host)}:{port}"
    public = urlsplit(public_base_url)
    if public.scheme == "https" or not public.hostname:
        return None
    return f"http://{url_host(public.hostname)}:{port}"


def url_host(host: str) -> str:
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return f"[{host.strip('[]')}]"
    return host


def start_child(host: str, port: int, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """`ivr streams` as a child of this process, which it outlives by at most a second."""
    args = [sys.executable, "-m", "ivr.commands.cli", "streams", "--host", host,
            "--port", str(port), "--parent-pid", str(os.getpid())]
    return subprocess.Popen(args, env=dict(env))


def stop_child(child: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
