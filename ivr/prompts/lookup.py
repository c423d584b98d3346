"""Which prompts have current recorded audio: the serving half of ivr/prompts/audio.py.

Runs for every prompt of every webhook, so it is stdlib only and cheap: the manifest is re-read
only when it changes, and a lookup costs a `stat` or two; with `check_every`
(IVR_PROMPT_CHECK_EVERY, 1 s in the web app) those looks happen at most once per prompt per that
many seconds, and the answers in between come from memory. Must not import Flask, Twilio or Redis.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ivr.prompts.audio import MANIFEST_NAME, PromptAudioError, read_manifest, text_digest

log = logging.getLogger("ivr.prompts")

# Answers remembered per check window: a prompt's text can be templated (a caller's own
# figures), so the distinct texts of one window are bounded; past this they are looked up.
MAX_ANSWERS = 4096


class PromptAudio:
    """Answers "is there current audio for this prompt?" for `ivr.phone.twiml` (`AudioLookup`).

    `catalog` is kept for the wiring in `ivr.app.services`; lookups need only the manifest, as the
    renderer passes the text it would `<Say>` (a templated text then simply finds no audio).

    `check_every` (seconds; 0: every lookup looks, as before issue 13): the `stat`s of the
    manifest and of each file were the bulk of a prompt lookup, made for every prompt of every
    webhook. With it, each window of that length starts afresh (`window()` counts them) and
    remembers its answers, so a built, rebuilt or removed recording is heard at most
    `check_every` seconds later. `clock` is the monotonic clock the windows are measured with."""

    def __init__(self, audio_dir: str | Path, catalog: object | None = None,
                 check_every: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.audio_dir = Path(audio_dir)
        self.catalog = catalog
        self._cache: tuple[tuple[int, int, int] | None, dict[str, Any]] = (None, {})
        # str paths and os.stat: these run for every prompt of every webhook, and pathlib's
        # path building costs several times the stat itself
        self._dir, self._manifest = str(self.audio_dir), str(self.audio_dir / MANIFEST_NAME)
        self.check_every, self._clock = check_every, clock
        # (window number, when the next one starts, its answers): replaced as a whole, so a
        # thread never sees one window's number with another's answers
        self._window: tuple[int, float, dict[tuple[str, str, str], str | None]] = (0, 0.0, {})

    def url_path(self, prompt_id: str, language: str, text: str) -> str | None:
        """`/prompts/<lang>/<id>.wav?v=<hash>` when that file exists and was built from
        `text`; None (so the caller uses `<Say>`) when it is missing, stale or unreadable.
        `v` changes whenever the audio does, so caches never serve an old version."""
        if self.check_every <= 0:
            return self._look(prompt_id, language, text)
        answers = self._current()[2]
        key = (prompt_id, language, text)
        try:
            return answers[key]
        except KeyError:
            found = self._look(prompt_id, language, text)
        if len(answers) < MAX_ANSWERS:
            answers[key] = found
        return found

    __call__ = url_path

    def window(self) -> int | None:
        """The number of the check window now: every answer `url_path` gives stays the same
        while it does (ivr/phone/twiml_memo.py keys documents by it). None without
        `check_every`: an answer may change at any lookup."""
        return self._current()[0] if self.check_every > 0 else None

    def _current(self) -> tuple[int, float, dict[tuple[str, str, str], str | None]]:
        window = self._window
        now = self._clock()
        if now >= window[1]:
            window = self._window = (window[0] + 1, now + self.check_every, {})
        return window

    def _look(self, prompt_id: str, language: str, text: str) -> str | None:
        entry = self._entries().get(f"{language}/{prompt_id}")
        if not entry or entry.get("text_sha") != text_digest(text):
            return None
        if not os.path.isfile(f"{self._dir}/{language}/{prompt_id}.wav"):
            return None
        return (f"/prompts/{quote(language, safe='')}/{quote(prompt_id, safe='')}.wav"
                f"?v={str(entry.get('source_sha', ''))[:12]}")

    def _entries(self) -> dict[str, Any]:
        """The manifest, re-read only when it changes (a build ran). The inode is part of the
        key because builds replace the file, and two writes can share an mtime tick."""
        try:
            st = os.stat(self._manifest)
        except FileNotFoundError:
            return {}
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        if stamp != self._cache[0]:
            try:
                self._cache = (stamp, read_manifest(self.audio_dir))
            except (OSError, PromptAudioError) as exc:
                # Callers hear <Say> instead of a recording; never fail the call for this.
                log.warning("prompt manifest %s unreadable, using <Say>: %s",
                            self.audio_dir / MANIFEST_NAME, exc)
                return {}
        return self._cache[1]
