"""Serve built prompt audio to Twilio: GET /prompts/<lang>/<id>.wav, the built hold music
(GET /prompts/music/hold.wav) and a queue's own hold file (GET /prompts/hold/<queue>.wav, the
file its `hold_audio:` names; ivr/phone/hold_audio.py).

Owns only file serving; which prompts are current is `ivr.prompts.audio`'s job. No signature
check: Twilio fetches `<Play>` URLs with a plain GET, and the files are the same words the
IVR says to any caller. Names are checked against a strict pattern before touching the disk,
so `..`, hidden files and encoded slashes get 404, never a file outside the audio folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from flask.typing import ResponseReturnValue
from werkzeug.security import safe_join

from ivr.app.services import services
from ivr.config.settings import REPO_ROOT
from ivr.prompts.hold_music import music_paths

bp = Blueprint("prompts", __name__)

MAX_AGE_S = 86400  # URLs carry ?v=<hash>, so a day of caching never serves a stale prompt
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
PROMPT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def audio_dir() -> Path:
    return Path(current_app.config.get("PROMPTS_AUDIO_DIR") or REPO_ROOT / "prompts" / "audio")


@bp.get("/prompts/<language>/<prompt_id>.wav")
def prompt_file(language: str, prompt_id: str) -> ResponseReturnValue:
    """The WAV with ETag and Last-Modified; a conditional GET that matches gets 304."""
    if not (LANGUAGE.fullmatch(language) and PROMPT_ID.fullmatch(prompt_id)):
        abort(404)
    path = safe_join(str(audio_dir()), language, f"{prompt_id}.wav")
    if path is None or not Path(path).is_file():
        abort(404)
    return _wav(Path(path))


@bp.get("/prompts/music/hold.wav")
def hold_music() -> ResponseReturnValue:
    return _wav(music_paths(audio_dir())[0])


@bp.get("/prompts/hold/<queue>.wav")
def queue_hold_audio(queue: str) -> ResponseReturnValue:
    """Only files a queue's `hold_audio:` names are served, never any path under prompts/."""
    holding = services().holding
    own = holding.audio.own_file(queue) if holding and holding.audio else None
    return _wav(own) if own is not None else abort(404)


def _wav(path: Path) -> ResponseReturnValue:
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, etag=True,
                     max_age=MAX_AGE_S)
