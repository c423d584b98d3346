"""Remembered TwiML documents (IVR_TWIML_MEMO): a step whose actions were rendered before gets
the same document again without building it.

Why: building the XML of a step (ivr/phone/twiml.py, twiml_builder.py) was about a tenth of a
`POST /voice`'s server CPU (issue 13 item 3, docs/performance.md), and most steps of most calls
are the same few documents: the greeting menu of each flow version, the next menus. A document
is a function of the step's actions (frozen dataclasses, compared with ==), the callback base
URL, the step number the callbacks carry, the call's language and the prompt audio's answers;
the first four are the key, and the audio's answers stay the same within one of its check
windows (ivr/prompts/lookup.py, IVR_PROMPT_CHECK_EVERY), so a new window starts an empty memo.
Without windows (IVR_PROMPT_CHECK_EVERY=0, or another `AudioLookup`) nothing is remembered.
A templated prompt (a caller's own figures) makes a document of its own; at `size` documents
the memo starts again empty, which bounds its memory. Must not import Flask or Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.domain.flow.actions import Action
from ivr.phone.twiml import AudioLookup, Urls, render

Key = tuple[tuple[Action, ...], str, int, str]


class TwimlMemo:
    """`render` with a memory: `memo(actions, urls, seq, audio, language)` is exactly
    `render(actions, urls, seq, audio, language)`. `window()` is the audio's check window
    (None: do not remember); `size` the documents kept at most (0: never remember)."""

    def __init__(self, size: int, window: Callable[[], int | None]) -> None:
        self.size = size
        self._window = window
        self._docs: tuple[int | None, dict[Key, str]] = (None, {})  # replaced as a whole
        self.rendered = 0  # documents built, not remembered (tests read it)

    def __call__(self, actions: tuple[Action, ...], urls: Urls, seq: int,
                 audio: AudioLookup | None = None, call_language: str = "en-US") -> str:
        window = self._window() if self.size else None
        if window is None:
            return self._render(actions, urls, seq, audio, call_language)
        number, docs = self._docs
        if number != window:
            docs = {}
            self._docs = (window, docs)
        key = (actions, urls.base, seq, call_language)
        try:
            doc = docs.get(key)
        except TypeError:  # an action holding a dict or list: not a key, render it each time
            return self._render(actions, urls, seq, audio, call_language)
        if doc is None:
            doc = self._render(actions, urls, seq, audio, call_language)
            if len(docs) >= self.size:
                docs.clear()
            docs[key] = doc
        return doc

    def _render(self, *args: Any) -> str:
        self.rendered += 1
        return render(*args)
