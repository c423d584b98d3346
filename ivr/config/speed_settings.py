"""The webhook path's shortcuts and caches: each one's switch, so `ivr bench webhook
--switches` can serve the app with it off and show what it buys (docs/performance.md).

Part of `Config` (ivr/config/settings.py), which inherits them: one typed object still holds
every setting, and the README table lists these after the product's own. Kept in a module of
their own so settings.py stays a readable size. Must not import anything of the product
beyond the settings helpers.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings

from ivr.config.settings_source import env


class SpeedSettings(BaseSettings):
    """Every shortcut is on by default and keeps the library's behaviour (each has a test
    comparing it with the regular way); `0` turns it off."""

    lean_redis: bool = env(
        "IVR_LEAN_REDIS", "`0` sends the webhook path's call scripts through redis-py's "
        "regular path instead of the shortcut (`ivr/store/lean_script.py`)", True, unset="`1`")
    lean_redis_keep: bool = env(
        "IVR_LEAN_REDIS_KEEP", "`0` hands the call scripts' Redis connection back to the pool "
        "after every web request instead of letting the request's thread keep it for its next "
        "request (at most a second; `ivr/store/lean_script.py`)", True, unset="`1`")
    lean_redis_blocking: bool = env(
        "IVR_LEAN_REDIS_BLOCKING", "`0` leaves the call scripts' held Redis connection in "
        "Python's timeout mode (a poll before every send and read) instead of blocking mode "
        "with the same timeout set in the kernel (`ivr/store/lean_script.py`)", True,
        unset="`1`")
    one_trip_start: bool = env(
        "IVR_ONE_TRIP_START", "`0` records a new call's first step with two Redis round trips "
        "(lock and read, then write) instead of one computed from the flags and caller summary "
        "this process last saw and checked in the same script (`ivr/store/call_start.py`)",
        True, unset="`1`")
    webhook_lane: bool = env(
        "IVR_WEBHOOK_LANE", "`0` answers every webhook through Flask instead of the lane in "
        "front of it for `/voice`, `/voice/next` and `/voice/status` "
        "(`ivr/web/webhook_lane.py`; both go through one pipeline, `ivr/web/pipeline.py`)",
        True, unset="`1`")
    fast_form: bool = env(
        "IVR_FAST_FORM", "`0` parses the lane's url-encoded forms with `urllib.parse.parse_qsl` "
        "instead of the one-pass parser that gives the same values (`ivr/web/form_parse.py`)",
        True, unset="`1`")
    first_step_memo: int = env(
        "IVR_FIRST_STEP_MEMO", "call starts each web process remembers per flow by what their "
        "walk read (the caller's variables, the time, the hours it asked about); a new call "
        "that agrees on all of it gets the same first step without walking the flow "
        "(`ivr/phone/first_step_memo.py`); `0`: every call walks", 8, ge=0, le=1000)
    twiml_memo: int = env(
        "IVR_TWIML_MEMO", "TwiML documents each web process remembers by the step's actions "
        "(the same actions, callback number and prompt audio always make the same document; "
        "`ivr/phone/twiml_memo.py`); when full it starts again empty; `0`: every step renders "
        "its own", 512, ge=0, le=100_000)
    prompt_check_every: float = env(
        "IVR_PROMPT_CHECK_EVERY", "seconds between a process's looks at the recorded prompt "
        "audio (the manifest's `stat` and each file's; `ivr/prompts/lookup.py`): a built or "
        "removed recording is heard by calls at most this much later; `0`: at every prompt",
        1.0, ge=0, le=3600)
