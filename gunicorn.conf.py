"""gunicorn settings for production (`ivr serve --gunicorn`, the Dockerfile).

Webhooks are short and I/O-bound (Redis round trips), so threads per worker give concurrency
without many processes; Twilio waits up to 15 s for a webhook, so the timeout is below that.
Four threads per worker: more threads of one process mostly wait for each other's GIL, and
`ivr bench webhook` measured 4 threads 5-10 % cheaper per webhook than 8 at saturation
(docs/performance.md). Flows whose lookups call a slow API hold a thread for up to the
lookup's timeout (3 s by default): raise IVR_THREADS (8-16) for those, or WEB_CONCURRENCY
with the cores.
"""

from ivr.config.startup import require_secret_key

# Read once, in the master, before any worker forks: a bad variable or a missing or weak
# SECRET_KEY stops gunicorn with one line, and in IVR_DEV_MODE every worker inherits the one
# key made here. IVR_BIND, WEB_CONCURRENCY, IVR_THREADS and FORWARDED_ALLOW_IPS are settings
# of ivr/config/settings.py like every other variable (README, Configuration).
ivr_settings = require_secret_key()

bind = ivr_settings.bind
workers = ivr_settings.web_concurrency
threads = ivr_settings.web_threads or 4
worker_class = "gthread"
timeout = 14
graceful_timeout = 10
keepalive = 5
accesslog = "-"
forwarded_allow_ips = ivr_settings.forwarded_allow_ips


def post_worker_init(worker):  # noqa: ARG001 - gunicorn's hook signature
    """The app's own records as JSON lines with the CallSid (ivr/config/log_format.py); gunicorn's
    error and access logs keep their own handlers."""
    from ivr.config.log_format import configure_from_env

    configure_from_env()
