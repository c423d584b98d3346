"""Security headers on every page and API answer Flask serves: a Content-Security-Policy with
no inline script or style, `frame-ancestors 'none'` (no clickjacking), `nosniff` and a
same-origin Referrer-Policy (issue 12, item 7; docs/security.md).

Why these values:
- `script-src 'self'` without 'unsafe-inline' or 'unsafe-eval': an injected `<script>` or
  `onerror=` does not run even if some text escapes its escaping. The pages' scripts are files
  (dashboards/static/pages/, dashboards/static/admin/); server data reaches them in a
  `<script type="application/json">` block, which is data and needs no exception.
- `style-src 'self'` (no 'unsafe-inline' either): every style block lives in a .css file and
  the templates carry no `style=` attribute. Scripts still set `element.style` (uPlot sizes its
  canvas that way), which CSP allows; the flow graph's SVG uses presentation attributes
  (`fill=`), which are not styles.
- `connect-src 'self'` plus the origin of `IVR_STREAM_URL` when the wallboard's stream is
  served by the stream service on another origin (ivr/live/; `Config.stream_url`).
- The agent console only (`SOFTPHONE_PAGES`): the Twilio Voice SDK's signalling
  (`wss://voice-js.<edge>.twilio.com`) and call-quality insights (`https://eventgw.twilio.com`,
  `https://eventgw.<region>.twilio.com`), as `wss://*.twilio.com https://*.twilio.com` in
  connect-src (the region comes from Twilio at registration, so it cannot be listed). Its ring,
  ringback, disconnect and DTMF sounds are the app's own (dashboards/static/sounds/, the
  Device's `sounds` option; issue 14): no `media-src https://sdk.twilio.com` any more, media
  stays `'self'` through default-src. The SDK's code itself is vendored
  (dashboards/static/vendor/twilio-voice/): scripts stay `'self'`. The call audio is WebRTC
  (ICE/DTLS-SRTP), which CSP does not govern.

TwiML answers (text/xml) get none of it: Twilio reads them, not a browser. The three busiest
webhooks never reach Flask at all (ivr/web/webhook_lane.py), so nothing here costs them; the
header values are built once per stream URL (a cache), so the hook is a few header writes.

A hand-written hook rather than flask-talisman: Talisman also forces HTTPS redirects, HSTS and
cookie flags this app sets elsewhere (dashboards/auth.py, the TLS proxy), applies to every
response including TwiML, and the policy itself is the eight lines below.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

bp = Blueprint("security_headers", __name__)
NOT_A_PAGE = frozenset({"text/xml", "application/xml"})  # TwiML: Twilio reads it
SOFTPHONE_PAGES = frozenset({"agent_console.page"})  # Flask endpoints that run Twilio.Device
TWILIO_CONNECT = "wss://*.twilio.com https://*.twilio.com"  # signalling, insights: not sounds


def stream_origin(stream_url: str | None) -> str | None:
    """`https://stream.example.com` for `https://stream.example.com/wallboard/events`; None
    for no setting or a path on this origin (which 'self' already covers)."""
    if not stream_url:
        return None
    parts = urlsplit(stream_url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(stream_url: str | None = None, softphone: bool = False) -> str:
    """The policy every page is served with (the exact string docs/security.md quotes);
    `softphone`: the agent console's, which lets the Voice SDK reach Twilio."""
    connect = " ".join(filter(None, ("'self'", stream_origin(stream_url),
                                     TWILIO_CONNECT if softphone else None)))
    return "; ".join((
        "default-src 'self'", "script-src 'self'", "style-src 'self'",
        f"connect-src {connect}", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'",
    ))


@functools.lru_cache(maxsize=8)
def security_headers(stream_url: str | None = None,
                     softphone: bool = False) -> tuple[tuple[str, str], ...]:
    """The headers for a stream URL, built once: the hook only looks them up."""
    return (
        ("Content-Security-Policy", content_security_policy(stream_url, softphone)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),  # frame-ancestors for browsers that predate CSP 2
    )


@bp.after_app_request
def add_security_headers(response: Response) -> Response:
    """Read from the app's settings each time, not frozen at start: `ivr serve` and the tests
    point the pages at a stream service started after the app (IVR_STREAM_URL)."""
    if response.mimetype not in NOT_A_PAGE:
        config = current_app.config.get("IVR")
        softphone = request.endpoint in SOFTPHONE_PAGES
        for name, value in security_headers(getattr(config, "stream_url", None), softphone):
            response.headers.setdefault(name, value)
    return response
