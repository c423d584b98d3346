"""gunicorn settings for production (`ivr serve --gunicorn`, the Dockerfile).

Webhooks are short and I/O-bound (Redis round trips), so threads per worker give concurrency
without many processes; Twilio waits up to 15 s for a webhook, so the timeout is below that.
"""

import os

bind = os.environ.get("IVR_BIND", "0.0.0.0:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("IVR_THREADS", "8"))
worker_class = "gthread"
timeout = 14
graceful_timeout = 10
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):  # noqa: ARG001 - gunicorn's hook signature
    """The app's own records as JSON lines with the CallSid (ivr/log_format.py); gunicorn's
    error and access logs keep their own handlers."""
    from ivr.log_format import configure_from_env

    configure_from_env()
