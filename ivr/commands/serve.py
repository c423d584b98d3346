"""`ivr serve`: the web app (webhooks and pages).

For development it runs Werkzeug's threaded server; `--gunicorn` execs gunicorn with the
production settings in `gunicorn.conf.py`, which is what the Dockerfile runs.
"""

from __future__ import annotations

import os
import sys

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--gunicorn", "use_gunicorn", is_flag=True, help="Run under gunicorn (production).")
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
def command(host: str, port: int, use_gunicorn: bool, workers: int) -> None:
    """Serve Twilio webhooks and the web pages."""
    from ivr.config import require_secret_key

    require_secret_key(os.environ)  # one line and exit 1 on a missing or weak key
    if use_gunicorn:
        args = ["gunicorn", "-c", "gunicorn.conf.py", "-b", f"{host}:{port}", "-w", str(workers),
                "ivr:create_app()"]
        os.execvp(sys.executable, [sys.executable, "-m", *args])
    from ivr import create_app
    from ivr.log_format import configure_from_env

    configure_from_env()
    app = create_app()
    click.echo(f"ivr: serving on http://{host}:{port}  (Voice URL: POST /voice)")
    app.run(host=host, port=port, threaded=True, use_reloader=False)
