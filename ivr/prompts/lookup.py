"""Which prompts have current recorded audio: the serving half of ivr/prompts/audio.py.

Runs for every prompt of every webhook, so it is stdlib only and cheap: the manifest is re-read
only when it changes, and a lookup costs a `stat` or two. Must not import Flask, Twilio or
Redis.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ivr.prompts.audio import MANIFEST_NAME, PromptAudioError, read_manifest, text_digest

log = logging.getLogger("ivr.prompts")


class PromptAudio:
    """Answers "is there current audio for this prompt?" for `ivr.phone.twiml` (`AudioLookup`).

    `catalog` is kept for the wiring in `ivr.app.services`; lookups need only the manifest, as the
    renderer passes the text it would `<Say>` (a templated text then simply finds no audio)."""

    def __init__(self, audio_dir: str | Path, catalog: object | None = None) -> None:
        self.audio_dir = Path(audio_dir)
        self.catalog = catalog
        self._cache: tuple[tuple[int, int, int] | None, dict[str, Any]] = (None, {})
        # str paths and os.stat: these run for every prompt of every webhook, and pathlib's
        # path building costs several times the stat itself
        self._dir, self._manifest = str(self.audio_dir), str(self.audio_dir / MANIFEST_NAME)

    def url_path(self, prompt_id: str, language: str, text: str) -> str | None:
        """`/prompts/<lang>/<id>.wav?v=<hash>` when that file exists and was built from
        `text`; None (so the caller uses `<Say>`) when it is missing, stale or unreadable.
        `v` changes whenever the audio does, so caches never serve an old version."""
        entry = self._entries().get(f"{language}/{prompt_id}")
        if not entry or entry.get("text_sha") != text_digest(text):
            return None
        if not os.path.isfile(f"{self._dir}/{language}/{prompt_id}.wav"):
            return None
        return (f"/prompts/{quote(language, safe='')}/{quote(prompt_id, safe='')}.wav"
                f"?v={str(entry.get('source_sha', ''))[:12]}")

    __call__ = url_path

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
