"""The pages' own scripts and style sheets (dashboards/static/pages/), served at
/static/pages/. They are files, not inline blocks, so every page runs under a
Content-Security-Policy without 'unsafe-inline' (ivr/web/security_headers.py). Vendored
libraries stay under dashboards/static/vendor (the wallboard blueprint serves them), the flow
editor's under dashboards/static/admin (admin_flows). The softphone's own ring, ringback,
disconnect and DTMF sounds (built by `ivr prompts softphone-sounds`, issue 14) are served from
dashboards/static/sounds/ (`sounds_bp`), so the Voice SDK fetches nothing from sdk.twilio.com.
No views here: files only."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assets", __name__, static_folder="static/pages",
               static_url_path="/static/pages")
sounds_bp = Blueprint("sounds", __name__, static_folder="static/sounds",
                      static_url_path="/static/sounds")
