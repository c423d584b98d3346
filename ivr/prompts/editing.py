"""Editing the prompt catalogue and its audio from the admin pages.

- `set_prompt_text` changes one text of one prompt in `prompts/catalog.yaml` by editing that
  line only (comments and layout stay as the authors wrote them), checks the result parses and
  that every live flow still validates with it, keeps a timestamped backup of the previous
  catalogue, and replaces the file atomically. The flow registry watches the catalogue, so the
  next call speaks the new text (with `<Say>` until audio is rebuilt for it).
- `save_recording` converts an uploaded recording with pydub (8 kHz mono mu-law WAV, loudness
  evened out: the same pipeline as `ivr prompts build`), keeps the converted file under
  `prompts/recorded/<lang>/<id>.wav` and installs it in the audio folder and its manifest, so
  callers hear it on the next call.
- `preview_tts` renders a text with espeak-ng through the same pipeline, for a listen first.

Must not import Flask or Redis.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ivr.domain.errors import ConfigError, NotFound
from ivr.prompts.audio import (
    PromptAudioError,
    PromptSource,
    export_mulaw,
    load_pydub,
    read_manifest,
    synthesise,
    text_digest,
    to_phone_audio,
    write_manifest,
)
from ivr.prompts.catalog import PromptCatalog, parse_catalog

PROMPT_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_TEXT = 1000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

CheckFlows = Callable[[PromptCatalog], None]  # raises FlowErrors when a flow breaks


def _check_names(prompt_id: str, language: str) -> None:
    if not PROMPT_ID.match(prompt_id or "") or not LANGUAGE.match(language or ""):
        raise NotFound(f"prompt {prompt_id!r} in {language!r}: not a prompt id and language")


def edit_catalog_text(source: str, prompt_id: str, language: str, text: str) -> str:
    """The catalogue text with `prompts.<id>.<language>` set to `text` (a JSON-quoted
    scalar, which YAML reads back exactly). Adds the language line when it is missing."""
    lines = source.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines)
                  if re.match(rf"^(\s+){re.escape(prompt_id)}:\s*(#.*)?$", line)), None)
    if start is None:
        raise NotFound(f"prompt {prompt_id!r} is not in the catalogue (as `  {prompt_id}:` "
                       "on its own line)")
    indent = len(lines[start]) - len(lines[start].lstrip())
    value = f"{language}: {json.dumps(text, ensure_ascii=False)}\n"
    end, child = start + 1, None
    while end < len(lines):
        stripped = lines[end].strip()
        if stripped and not stripped.startswith("#"):
            here = len(lines[end]) - len(lines[end].lstrip())
            if here <= indent:
                break
            child = child if child is not None else here
            if here == child and stripped.startswith(f"{language}:"):
                lines[end] = " " * here + value
                return "".join(lines)
        end += 1
    pad = " " * (child if child is not None else indent + 2)
    lines.insert(start + 1, pad + value)
    return "".join(lines)


def set_prompt_text(catalog_path: Path, prompt_id: str, language: str, text: str,
                    check_flows: CheckFlows, backups: Path, now: datetime) -> Path:
    """Change one prompt text (see the module docstring); returns the backup's path. Raises
    ConfigError (bad text or catalogue) or FlowErrors (a flow would break): nothing changes."""
    _check_names(prompt_id, language)
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise ConfigError(f"prompt {prompt_id} {language}: give a text of 1 to {MAX_TEXT} "
                          "characters")
    old = catalog_path.read_text(encoding="utf-8")
    new = edit_catalog_text(old, prompt_id, language, text)
    catalog = parse_catalog(new, str(catalog_path))
    if catalog.texts.get(prompt_id, {}).get(language) != text:
        raise ConfigError(f"prompt {prompt_id} {language}: the edit did not read back; edit "
                          f"{catalog_path} by hand")
    check_flows(catalog)  # FlowErrors: a flow would lose a text it speaks
    backups.mkdir(parents=True, exist_ok=True)
    backup = backups / f"catalog-{now:%Y%m%dT%H%M%S%f}.yaml"
    shutil.copyfile(catalog_path, backup)
    _atomic_write(catalog_path, new.encode("utf-8"))
    return backup


def save_recording(catalog: PromptCatalog, catalog_path: Path, prompt_id: str, language: str,
                   upload: Path, audio_dir: Path) -> float:
    """Convert and install an uploaded recording; returns its length in seconds. Raises
    PromptAudioError when ffmpeg cannot read it or it is silent."""
    _check_names(prompt_id, language)
    if not catalog.has(prompt_id, language):
        raise NotFound(f"prompt {prompt_id!r} has no {language} text; add the text first")
    pydub = load_pydub()
    try:
        segment = pydub.AudioSegment.from_file(str(upload))
    except Exception as exc:  # pydub raises CouldntDecodeError, IndexError, OSError...
        raise PromptAudioError(f"the upload is not audio ffmpeg can read ({exc}); send WAV, "
                               "MP3, M4A or FLAC") from exc
    phone = to_phone_audio(segment)
    recorded = catalog_path.parent / "recorded" / language / f"{prompt_id}.wav"
    export_mulaw(phone, recorded)
    text = catalog.text(prompt_id, language)
    source = PromptSource(prompt_id, language, text, voice="", recording=recorded)
    export_mulaw(phone, audio_dir / language / f"{prompt_id}.wav")
    manifest = read_manifest(audio_dir)
    manifest[source.key] = {"text_sha": text_digest(text), "source_sha": source.digest(),
                            "source": source.origin, "seconds": round(len(phone) / 1000, 2),
                            "dbfs": round(phone.dBFS, 1)}
    write_manifest(audio_dir, manifest)
    return round(len(phone) / 1000, 2)


def preview_tts(text: str, voice: str) -> bytes:
    """The text as callers would hear it from TTS: espeak-ng, then the phone pipeline."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        raise ConfigError("nothing to say: give a text")
    with tempfile.TemporaryDirectory(prefix="ivr-preview-") as tmp:
        wav = synthesise(text, voice, Path(tmp) / "tts.wav")
        phone = to_phone_audio(load_pydub().AudioSegment.from_wav(str(wav)))
        out = Path(tmp) / "preview.wav"
        export_mulaw(phone, out)
        return out.read_bytes()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
