"""gunicorn settings for production (`ivr serve --gunicorn`, the Dockerfile).

Webhooks are short and I/O-bound (Redis round trips), so threads per worker give concurrency
without many processes; Twilio waits up to 15 s for a webhook, so the timeout is below that.
Four threads per worker: more threads of one process mostly wait for each other's GIL, and
`ivr bench webhook` measured 4 threads 5-10 % cheaper per webhook than 8 at saturation (README,
Performance). Flows whose lookups call a slow API hold a thread for up to the lookup's timeout
(3 s by default): raise IVR_THREADS (8-16) for those, or WEB_CONCURRENCY with the cores.
"""

import os

from ivr.config.settings import require_secret_key

# Read once, in the master, before any worker forks: a missing or weak SECRET_KEY stops
# gunicorn with one line, and in IVR_DEV_MODE every worker inherits the one key made here.
require_secret_key(os.environ)

bind = os.environ.get("IVR_BIND", "0.0.0.0:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("IVR_THREADS", "4"))
worker_class = "gthread"
timeout = 14
graceful_timeout = 10
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):  # noqa: ARG001 - gunicorn's hook signature
    """The app's own records as JSON lines with the CallSid (ivr/config/log_format.py); gunicorn's
    error and access logs keep their own handlers."""
    from ivr.config.log_format import configure_from_env

    configure_from_env()
