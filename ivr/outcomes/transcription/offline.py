"""The offline engine: pocketsphinx 5 with the US-English model that ships inside its wheel.

For development, demos and tests: nothing is downloaded and no account is needed. Accuracy on
8 kHz phone audio is modest (a rough gist, not a record); production uses `google.py`.

Languages: only English (`en`, `en-*`). Any other language is
`TranscriptionFailed(code="unsupported_language")`, not a best attempt: an English model run
on a Spanish voicemail returns confident English nonsense, and a wrong transcript on a
follow-up task misleads the agent more than no transcript does (the recording still plays).

Owns `OfflineTranscriber`. Imports pocketsphinx lazily so that choosing the Google engine
never loads it.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ivr.domain.errors import TranscriptionFailed
from ivr.outcomes.transcription import Transcript, Word
from ivr.outcomes.transcription.audio import ENGINE_RATE, PcmAudio, peak_dbfs, to_pcm16

ENGINE = "pocketsphinx"
SILENCE_DBFS = -50.0  # a recording whose loudest sample is below this holds no speech
_ALT_PRONUNCIATION = re.compile(r"\(\d+\)$")  # cmudict marks variants as "to(2)"


def supports(language: str) -> bool:
    """True for the languages the shipped model covers: English, any region."""
    return language.lower().split("-")[0] == "en"


class OfflineTranscriber:
    """pocketsphinx decoder, built on first use and reused (about 0.2 s to load the model).

    A decoder is not thread-safe, so calls are serialised with a lock; an RQ worker runs one
    job at a time anyway.
    """

    name = ENGINE

    def __init__(self, silence_dbfs: float = SILENCE_DBFS) -> None:
        self.silence_dbfs = silence_dbfs
        self._decoder: Any = None
        self._lock = threading.Lock()

    def transcribe(self, audio: bytes, language: str) -> Transcript:
        if not supports(language):
            raise TranscriptionFailed(
                f"the offline engine (pocketsphinx) only has an English model, not {language!r}:"
                " set IVR_TRANSCRIBER=google for other languages", code="unsupported_language")
        pcm = to_pcm16(audio, ENGINE_RATE)
        # Skip the decoder on silence: pocketsphinx's LM hallucinates a word ("i'm") on
        # digital silence, and an empty voicemail should read as empty.
        if peak_dbfs(pcm) < self.silence_dbfs:
            return Transcript(text="", confidence=None, engine=ENGINE, language=language)
        with self._lock:
            return self._decode(pcm, language)

    def _decode(self, pcm: PcmAudio, language: str) -> Transcript:
        decoder = self._load()
        try:
            decoder.start_utt()
            decoder.process_raw(pcm.pcm, full_utt=True)
            decoder.end_utt()
        except RuntimeError as exc:
            raise TranscriptionFailed(f"pocketsphinx failed to decode: {exc}",
                                      code="engine_error") from exc
        hyp = decoder.hyp()
        frame_rate = float(decoder.config["frate"])
        words = tuple(
            Word(text=_ALT_PRONUNCIATION.sub("", seg.word), start=seg.start_frame / frame_rate,
                 end=(seg.end_frame + 1) / frame_rate, confidence=_unit(seg.prob))
            for seg in decoder.seg() if _is_word(seg.word))
        text = " ".join(w.text for w in words) if hyp is None else hyp.hypstr.strip()
        scores = [w.confidence for w in words if w.confidence is not None]
        confidence = sum(scores) / len(scores) if scores else None
        return Transcript(text=text, confidence=confidence, engine=ENGINE, language=language,
                          words=words)

    def _load(self) -> Any:
        if self._decoder is None:
            try:
                from pocketsphinx import Decoder  # the default model is the one in the wheel
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise TranscriptionFailed(
                    "pocketsphinx is not installed: pip install the ivr package again",
                    code="engine_unavailable") from exc
            self._decoder = Decoder(samprate=ENGINE_RATE, loglevel="ERROR")
        return self._decoder


def _is_word(token: str) -> bool:
    """Drop sentence markers (<s>, </s>), pauses (<sil>) and fillers ([NOISE], ++UH++)."""
    return bool(token) and token[0] not in "<[+"


def _unit(prob: float) -> float:
    """pocketsphinx posteriors can drift just above 1.0 (1.0001 on <sil>): clamp to 0..1."""
    return max(0.0, min(1.0, float(prob)))
