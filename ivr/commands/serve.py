"""`ivr serve`: the web app (webhooks and pages), with the stream service beside it.

For development it runs Werkzeug's server on a fixed number of threads (ivr/app/dev_server.py,
IVR_THREADS, 16 by default); `--gunicorn` execs gunicorn with the production settings in
`gunicorn.conf.py`, which is what the Dockerfile runs. Either way a web process keeps a bounded
number of threads, Redis connections (IVR_REDIS_MAX_CONNECTIONS) and database connections
(IVR_DB_POOL_SIZE + IVR_DB_MAX_OVERFLOW per engine).

Either way it first starts the stream service (`ivr streams`, ivr/live/) as a child process
on `--streams-port` (default: `--port` + 1): the wallboard's long-lived event streams live
there, in an event loop, so they never hold one of the web server's request threads, which
belong to Twilio's webhooks (issue 12). When IVR_STREAM_URL is unset it is set for the web
app to where a browser finds that child (ivr/live/running.py `browser_stream_url`), and the
web app's own origin is added to the origins the stream service accepts. `--no-streams` is
for deployments that run `ivr streams` on their own (compose.yaml).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--gunicorn", "use_gunicorn", is_flag=True, help="Run under gunicorn (production).")
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--streams/--no-streams", default=True, show_default=True,
              help="Start the stream service (the wallboard's live events) beside the web app.")
@click.option("--streams-port", type=int, default=None,
              help="The stream service's port.  [default: --port + 1]")
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Request threads per process [env IVR_THREADS; default 16, gunicorn 4].")
def command(host: str, port: int, use_gunicorn: bool, workers: int, streams: bool,
            streams_port: int | None, threads: int | None) -> None:
    """Serve Twilio webhooks and the web pages (and, beside them, the wallboard's streams)."""
    from ivr.config.startup import require_secret_key

    require_secret_key()  # one line and exit 1 on a bad variable or a missing or weak key
    child = start_streams(host, port, streams_port or port + 1) if streams else None
    if use_gunicorn:
        args = ["gunicorn", "-c", "gunicorn.conf.py", "-b", f"{host}:{port}", "-w", str(workers),
                *(["--threads", str(threads)] if threads else []), "ivr:create_app()"]
        # gunicorn takes this process over (same pid): the child watches that pid and stops
        # when gunicorn's master is gone.
        os.execvp(sys.executable, [sys.executable, "-m", *args])
    try:
        _run_development_server(host, port, threads)
    finally:
        if child is not None:
            from ivr.live.running import stop_child

            stop_child(child)


def _run_development_server(host: str, port: int, threads: int | None) -> None:
    from ivr import create_app
    from ivr.app.dev_server import DEFAULT_THREADS, PooledWSGIServer
    from ivr.config.log_format import configure_from_env

    configure_from_env()
    app = create_app()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the child on the way out
    stream_url = app.config["IVR"].stream_url or "(same origin)"
    threads = threads or app.config["IVR"].web_threads or DEFAULT_THREADS
    server = PooledWSGIServer(host, port, app, threads=threads)
    click.echo(f"ivr: serving on http://{host}:{port} with {threads} threads  (Voice URL: "
               f"POST /voice; wallboard streams: {stream_url})")
    server.serve_forever()


def start_streams(host: str, port: int, streams_port: int) -> subprocess.Popen[bytes]:
    """The stream service as a child, on the web app's embedded Redis when REDIS_URL is unset
    (started here once, so the web processes and the child do not race to start it)."""
    from ivr.config.settings import from_env
    from ivr.live.running import WILDCARD_HOSTS, browser_stream_url, start_child, url_host

    config = from_env()
    if not config.redis_url:
        from ivr.store.embedded_redis import EmbeddedRedis

        os.environ["REDIS_URL"] = EmbeddedRedis(config.instance_dir / "redis").start().url
    if not config.stream_url:
        url = browser_stream_url(host, streams_port, config.public_base_url)
        if url:
            os.environ["IVR_STREAM_URL"] = url
    origins = [o for o in config.web_origins.split(",") if o.strip()]
    if host not in WILDCARD_HOSTS:
        origins.append(f"http://{url_host(host)}:{port}")
    env = {**os.environ, "IVR_WEB_ORIGINS": ",".join(origins)}
    return start_child(host, streams_port, env)
