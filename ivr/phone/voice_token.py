"""Access tokens for the agent console's softphone (the Twilio Voice JavaScript SDK).

Owns who signs a token and what it grants: the twilio library's `AccessToken` with one
`VoiceGrant` (incoming calls to the identity allowed; outgoing calls through the TwiML App
`TWILIO_TWIML_APP_SID`, whose Voice URL is `/voice/client`). The identity is decided by the
caller of `issue_token` (dashboards/softphone.py: the signed-in user's own, never one asked
for). Signed with the API key `TWILIO_API_KEY_SID`/`TWILIO_API_KEY_SECRET`; with the local
stand-in (no real credentials) with a development key, so the console works on a laptop. Real
credentials without an API key: `TokenUnavailable`, said in words, never a token signed with
the auth token (Twilio rejects those). Must not import Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from ivr.config.settings import DEV_ACCOUNT_SID, Config

DEV_API_KEY_SID = "SK" + "0" * 32  # Twilio's format, never a real key
DEV_TWIML_APP_SID = "AP" + "0" * 32
DEV_API_KEY_SECRET = "dev-api-key-secret-not-a-secret-32"  # HS256 wants 32 bytes or more


class TokenUnavailable(RuntimeError):
    """No API key to sign with; the message names the settings to set."""


@dataclass(frozen=True)
class VoiceToken:
    jwt: str
    identity: str
    ttl: int  # seconds


def signing_key(config: Config) -> tuple[str, str, str]:
    """(account SID, API key SID, API key secret) the tokens are signed with."""
    if config.twilio_api_key_sid and config.twilio_api_key_secret:
        return (config.twilio_account_sid or DEV_ACCOUNT_SID, config.twilio_api_key_sid,
                config.twilio_api_key_secret)
    if config.uses_standin:
        return DEV_ACCOUNT_SID, DEV_API_KEY_SID, DEV_API_KEY_SECRET
    raise TokenUnavailable("the softphone needs a Twilio API key: set TWILIO_API_KEY_SID and "
                           "TWILIO_API_KEY_SECRET (Twilio Console, API keys)")


def twiml_app(config: Config) -> str | None:
    """The TwiML App outgoing softphone calls go through (None: no outgoing calls)."""
    if config.twilio_twiml_app_sid:
        return config.twilio_twiml_app_sid
    return DEV_TWIML_APP_SID if config.uses_standin else None


def issue_token(config: Config, identity: str) -> VoiceToken:
    """A token for `identity` lasting IVR_VOICE_TOKEN_TTL seconds."""
    account, key_sid, secret = signing_key(config)
    token = AccessToken(account, key_sid, secret, identity=identity, ttl=config.voice_token_ttl)
    token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=twiml_app(config)))
    return VoiceToken(token.to_jwt(), identity, config.voice_token_ttl)
