"""Where a voicemail's audio may be fetched from: one rule for playback
(dashboards/recordings.py) and transcription (queue_worker/transcription.py).

Why (issue 12, item 7a): a RecordingUrl arrives in a webhook form, and fetching whatever URL it
names with the account's credentials would make the app a proxy (and hand the credentials to
that host). Playback checked the origin; transcription did not. Now both go through
`allowed_origin`, and transcription no longer carries the URL at all: jobs and logs name the
recording SID (useless without the account), and the URL is built from the SID, the configured
API and the account at fetch time (`media_url`). Must not import Flask, RQ or the stores.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ivr.config.settings import DEV_ACCOUNT_SID

TWILIO_API = "https://api.twilio.com"
RECORDING_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def api_base(config: Any) -> str:
    """The Twilio REST API the app talks to (the stand-in's when configured)."""
    return str(config.twilio_api_base or TWILIO_API).rstrip("/")


def allowed_origin(url: str, config: Any) -> bool:
    """True when `url` is on the configured Twilio API's origin (scheme and host:port)."""
    try:
        theirs, ours = urlsplit(url), urlsplit(api_base(config))
    except ValueError:
        return False
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def media_url(config: Any, recording_sid: str) -> str:
    """The WAV of a recording of this account: `{api}/2010-04-01/Accounts/{AC}/Recordings/
    {RE}.wav`. Raises ValueError for a SID that is not one (it becomes part of the path)."""
    if not RECORDING_SID.match(recording_sid):
        raise ValueError(f"{recording_sid[:70]!r} is not a recording SID")
    account = config.twilio_account_sid or DEV_ACCOUNT_SID
    return f"{api_base(config)}/2010-04-01/Accounts/{account}/Recordings/{recording_sid}.wav"


def credentials(config: Any) -> tuple[str, str] | None:
    """HTTP basic auth for media requests (accounts that require authenticated media)."""
    if config.twilio_account_sid and config.twilio_auth_token:
        return str(config.twilio_account_sid), str(config.twilio_auth_token)
    return None
