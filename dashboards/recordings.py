"""`GET /recordings/<RecordingSid>`: a voicemail's or a recorded agent call's audio, for
signed-in users with the role.

Pages link here, never to Twilio: a RecordingUrl is readable by anyone who has it (Twilio's
default), so it must not reach a browser. This view finds the voicemail in the outcome
database, else the agent call's `recording` event (ivr/store/recording_ledger.py; an unknown
sid is 404, so it cannot be used to fetch arbitrary recordings), then
streams the WAV from Twilio with the account credentials (HTTP basic auth). The app keeps no
local copy: the transcription job holds the audio in memory only. A recording the retention
job deleted answers 410.

Who may listen: `IVR_RECORDING_ROLES` (comma-separated; default `supervisor`; admins always).
Signed-out users are sent to /login (401 for JSON clients); other roles get 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests
from flask import Blueprint, Response, abort, current_app
from sqlalchemy import select

from dashboards.auth import current_user, require_role, user_engine
from ivr.outcomes.recording_media import allowed_origin, credentials
from ivr.store import models as m
from ivr.store.recording_ledger import recording_urls

bp = Blueprint("recordings", __name__)
DEFAULT_ROLES = ("supervisor",)
SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def listening_roles() -> tuple[str, ...]:
    raw = current_app.config["IVR"].recording_roles  # IVR_RECORDING_ROLES, comma-separated
    roles = tuple(r.strip() for r in raw.split(",") if r.strip())
    return roles or DEFAULT_ROLES


def _allowed(view: Any) -> Any:
    """require_role with the roles read per request (configuration, not import time)."""

    def checked(*args: Any, **kwargs: Any) -> Any:
        return require_role(*listening_roles())(view)(*args, **kwargs)

    checked.__name__ = view.__name__
    return checked


@bp.get("/recordings/<sid>")
@_allowed
def recording(sid: str) -> Response:
    if not SID.match(sid):
        abort(404)
    url = _recording_url(sid)
    upstream = _fetch(url)
    current_app.logger.info("recording %s played by %s", sid,
                            getattr(current_user(), "username", "?"))
    return Response(_chunks(upstream), mimetype="audio/x-wav",
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": f'inline; filename="{sid}.wav"'})


def _recording_url(sid: str) -> str:
    with user_engine().connect() as conn:
        urls = conn.execute(select(m.VoicemailRow.url).where(
            m.VoicemailRow.recording_sid == sid)).scalars().all()
    if not urls:
        urls = recording_urls(user_engine(), sid) or []
    if not urls:
        abort(404, description=f"no voicemail or recorded call with recording {sid}")
    url = next((u for u in urls if u), None)
    if url is None:
        abort(410, description=f"recording {sid} was deleted under the retention policy")
    return url


def _fetch(url: str) -> requests.Response:
    """GET the WAV from Twilio (or the configured stand-in) with the account's credentials.
    Only URLs on that origin are fetched, so a forged RecordingUrl cannot make us a proxy."""
    config = current_app.config["IVR"]
    if not allowed_origin(url, config):  # transcription uses this rule too
        abort(502, description="the recording is not stored at the configured Twilio API")
    wav = url if url.endswith((".wav", ".mp3")) else url + ".wav"
    try:
        upstream = requests.get(wav, auth=credentials(config), timeout=10, stream=True)
    except requests.RequestException:
        abort(502, description="Twilio did not answer for the recording; try again")
    if upstream.status_code == 404:
        upstream.close()
        abort(410, description="the recording is gone at Twilio")
    if upstream.status_code != 200:
        upstream.close()
        abort(502, description=f"Twilio answered HTTP {upstream.status_code} for the recording")
    return upstream


def _chunks(upstream: requests.Response) -> Iterator[bytes]:
    try:
        yield from upstream.iter_content(64 * 1024)
    finally:
        upstream.close()
