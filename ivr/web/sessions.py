"""Signed-cookie sessions for the pages, none for Twilio's webhooks.

Flask opens a session on every request, which builds a signing serializer (an HMAC key
derivation) each time. Twilio sends no cookie and our webhooks never read or write a session,
so for them Flask gets a null session: about a tenth of a webhook's CPU saved
(devkit/bench/webhook.py), and a webhook that tried to write one would fail loudly instead.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

# Paths only Twilio calls: voice and SMS webhooks (the pages and APIs live elsewhere).
WEBHOOK_PATHS = ("/voice", "/sms")
WEBHOOK_PREFIXES = ("/voice/",)


def is_webhook(path: str) -> bool:
    return path in WEBHOOK_PATHS or path.startswith(WEBHOOK_PREFIXES)


class WebhookFreeSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_webhook(request.path):
            return None  # Flask then uses make_null_session(), and saves nothing
        return super().open_session(app, request)
