"""Prompt audio: build telephone WAVs from the prompt catalogue, and tell the renderer which exist.

Owns `prompts/audio/<lang>/<id>.wav` and `prompts/audio/manifest.json`, which maps `<lang>/<id>`
to digests of the text and of the whole source (text, voice or recording, pipeline settings),
so a prompt whose text changed is known to be stale: never played, rebuilt by the next build.

Two halves with different costs, in two modules:
- `ivr/prompts/lookup.py` (`PromptAudio.url_path`) runs on every call answer: stdlib only, a
  `stat` or two per lookup.
- `build_prompts`, here, runs from `ivr prompts build`: it shells out to espeak-ng (offline
  TTS) and, through pydub, to ffmpeg. pydub is imported only there, so the web app never
  needs ffmpeg.

Must not import Flask, Twilio or Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.domain.errors import IvrError
from ivr.domain.flow.yamlsource import load_data
from ivr.prompts.catalog import load_catalog

log = logging.getLogger("ivr.prompts")

MANIFEST_NAME = "manifest.json"
SAMPLE_RATE = 8000  # Hz: the PSTN rate; Twilio would otherwise resample every play.
TARGET_DBFS = -20.0  # average loudness, so prompts sound alike and leave room for peaks
PEAK_CEILING_DBFS = -1.0  # never push a peak above this (mu-law clips hard)
SILENT_DBFS = -60.0  # quieter than this is an empty recording or a TTS failure
# Bump when the conversion changes, so every prompt is rebuilt once.
PIPELINE = f"v1:{SAMPLE_RATE}:mulaw:{TARGET_DBFS}:{PEAK_CEILING_DBFS}"
ESPEAK_TIMEOUT_S = 30

# espeak-ng voices for languages whose tag espeak does not know as such ("es-US").
DEFAULT_VOICES = {"en-US": "en-us", "en-GB": "en-gb", "es-US": "es-419", "es-MX": "es-419"}

INSTALL_HINT = (
    "install it with `sudo apt-get install espeak-ng ffmpeg` (macOS: `brew install espeak-ng "
    "ffmpeg`), then run `ivr prompts build` again. Calls still work meanwhile: prompts without "
    "a built file are spoken with Twilio <Say>."
)


class PromptAudioError(IvrError):
    """A prompt could not be built: a tool is missing, a recording is bad, a voice is unknown."""


@dataclass(frozen=True)
class PromptSource:
    """One (prompt, language) to build: from `recording` when set, else TTS of `text`."""

    prompt_id: str
    language: str
    text: str
    voice: str
    recording: Path | None = None

    @property
    def key(self) -> str:
        return f"{self.language}/{self.prompt_id}"

    @property
    def origin(self) -> str:
        return f"recorded:{self.recording.name}" if self.recording else f"tts:{self.voice}"

    def digest(self) -> str:
        """Changes whenever the audio would change: text, voice, recording bytes, pipeline."""
        h = hashlib.sha256(f"{PIPELINE}\0{self.text}\0".encode())
        if self.recording:
            h.update(b"recording\0" + self.recording.read_bytes())
        else:
            h.update(f"espeak\0{self.voice}".encode())
        return h.hexdigest()


def text_digest(text: str) -> str:
    """The digest the renderer's text is compared with; surrounding whitespace is ignored."""
    return hashlib.sha256(text.strip().encode()).hexdigest()



def read_sources(catalog_path: Path) -> list[PromptSource]:
    """Every (prompt, language) pair with text in the catalogue, in catalogue order.

    Texts come from `ivr.prompts.catalog.load_catalog` when that module is installed (so the
    catalogue is validated in one place); recorded `file`s and espeak `voices` are read here,
    because the catalogue's public API (`ids`, `languages`, `text`) does not carry them.
    """
    catalog_path = Path(catalog_path)
    try:
        raw = load_data(catalog_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise PromptAudioError(
            f"{catalog_path}: prompt catalogue not found; pass --catalog or create it "
            "(see prompts/README.md)") from None
    prompts = raw.get("prompts") or {}
    if not isinstance(prompts, dict):
        raise PromptAudioError(f"{catalog_path}: `prompts` must be a mapping of id to texts")
    ids, languages, text = _load_texts(catalog_path, prompts)
    recorded_root = catalog_path.parent / "recorded"
    sources = []
    for prompt_id in ids:
        for language in languages:
            said = text(prompt_id, language)
            if not said:
                continue
            sources.append(PromptSource(
                prompt_id=str(prompt_id), language=language, text=said,
                voice=_voice(raw.get("voices") or {}, language),
                recording=_recording(recorded_root, prompts.get(prompt_id) or {}, language),
            ))
    return sources


def _load_texts(path: Path, prompts: dict[str, Any]) -> tuple[
        list[str], list[str], Callable[[str, str], str | None]]:
    catalog = load_catalog(path)

    def text(prompt_id: str, language: str) -> str | None:
        try:
            return catalog.text(prompt_id, language)
        except KeyError:  # this prompt has no text in that language: nothing to build
            return None

    return list(catalog.ids), list(catalog.languages), text


def _voice(voices: dict[str, Any], language: str) -> str:
    configured = (voices.get(language) or {}).get("espeak")
    if configured:
        return str(configured)
    return DEFAULT_VOICES.get(language, language.lower())


def _recording(root: Path, entry: dict[str, Any], language: str) -> Path | None:
    name = entry.get("file")
    if not name:
        return None
    if Path(name).name != name or name.startswith("."):
        raise PromptAudioError(
            f"recorded file {name!r}: give a plain file name; it is looked up under "
            f"{root}/<language>/")
    path = root / language / name
    return path if path.is_file() else None  # not recorded in this language: TTS it



@dataclass
class BuildReport:
    """What `build_prompts` did, by `<lang>/<id>` key."""

    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"prompts: {len(self.built)} built, {len(self.unchanged)} up to date, "
                f"{len(self.removed)} removed")


def check_tools(sources: Iterable[PromptSource]) -> None:
    """Raise PromptAudioError naming the missing tool and how to install it."""
    needed = ["ffmpeg"]
    if any(s.recording is None for s in sources):
        needed.insert(0, "espeak-ng")
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise PromptAudioError(f"{' and '.join(missing)} not found on PATH: {INSTALL_HINT}")


def build_prompts(sources: list[PromptSource], out_dir: Path, *, force: bool = False,
                  echo: Callable[[str], None] | None = None) -> BuildReport:
    """Render every stale or missing prompt into `out_dir` and rewrite the manifest.

    Incremental: a prompt whose source digest matches the manifest and whose file exists is
    skipped; files of prompts gone from the catalogue are deleted. Files and the manifest are
    replaced atomically (Twilio never fetches half a file), the manifest after each prompt (an
    interrupted build keeps its progress)."""
    out_dir = Path(out_dir)
    check_tools(sources)
    manifest = read_manifest(out_dir)
    report = BuildReport()
    for source in sources:
        old = manifest.get(source.key)
        digest = source.digest()
        if not force and old and old.get("source_sha") == digest and _wav(
                out_dir, source).is_file():
            report.unchanged.append(source.key)
            continue
        manifest[source.key] = _build_one(source, out_dir, digest)
        _note_stale_recording(source, old, manifest[source.key], report)
        write_manifest(out_dir, manifest)
        report.built.append(source.key)
        if echo:
            echo(f"  built {source.key} ({source.origin}, {manifest[source.key]['seconds']} s)")
    _remove_orphans(out_dir, manifest, {s.key for s in sources}, report)
    write_manifest(out_dir, manifest)
    return report


def _build_one(source: PromptSource, out_dir: Path, digest: str) -> dict[str, Any]:
    segment = _load_source(source)
    try:
        phone = to_phone_audio(segment)
    except PromptAudioError as exc:
        raise PromptAudioError(f"{source.key} ({source.origin}): {exc}") from None
    export_mulaw(phone, _wav(out_dir, source))
    return {"text_sha": text_digest(source.text), "source_sha": digest,
            "source": source.origin, "seconds": round(len(phone) / 1000, 2),
            "dbfs": round(phone.dBFS, 1)}


def _note_stale_recording(source: PromptSource, old: dict[str, Any] | None,
                          new: dict[str, Any], report: BuildReport) -> None:
    # A recording wins over the text, so a text edit cannot change what callers hear: say so.
    if (source.recording and old and old.get("source") == new["source"]
            and old.get("text_sha") != new["text_sha"]):
        report.notes.append(f"{source.key}: text changed but {source.recording} is a "
                            "recording; re-record it if the words changed")


def _remove_orphans(out_dir: Path, manifest: dict[str, Any], keep: set[str],
                    report: BuildReport) -> None:
    for key in sorted(set(manifest) - keep):
        language, prompt_id = key.split("/", 1)
        (out_dir / language / f"{prompt_id}.wav").unlink(missing_ok=True)
        del manifest[key]
        report.removed.append(key)


def _wav(out_dir: Path, source: PromptSource) -> Path:
    return out_dir / source.language / f"{source.prompt_id}.wav"


def load_pydub() -> Any:
    """Import pydub without the stdlib `audioop` deprecation warning (Python 3.11-3.12), which
    the test suite's `filterwarnings = error` turns into an error. 3.13 uses audioop-lts."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'audioop' is deprecated",
                                category=DeprecationWarning)
        import pydub
        import pydub.effects  # noqa: F401 - loads the submodule while warnings are filtered
    return pydub


def _load_source(source: PromptSource) -> Any:
    pydub = load_pydub()
    if source.recording:
        try:
            return pydub.AudioSegment.from_file(source.recording)
        except Exception as exc:  # pydub raises CouldntDecodeError, IndexError, OSError...
            raise PromptAudioError(
                f"{source.recording}: ffmpeg cannot read this recording ({exc}); export it as "
                "WAV or MP3 and build again") from exc
    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
        wav = synthesise(source.text, source.voice, Path(tmp) / "tts.wav")
        return pydub.AudioSegment.from_wav(wav)


def synthesise(text: str, voice: str, dest: Path) -> Path:
    """Speak `text` with espeak-ng into the WAV file `dest`. Text goes through stdin, so a
    prompt starting with `-` is not read as an option."""
    cmd = ["espeak-ng", "-v", voice, "-b", "1", "--stdin", "-w", str(dest)]
    try:
        done = subprocess.run(cmd, input=text.encode(), capture_output=True,
                              timeout=ESPEAK_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise PromptAudioError(f"espeak-ng not found on PATH: {INSTALL_HINT}") from None
    if done.returncode != 0 or not dest.is_file():
        err = done.stderr.decode(errors="replace").strip()
        raise PromptAudioError(
            f"espeak-ng failed for voice {voice!r}: {err or done.returncode}. Set "
            "`voices: {<language>: {espeak: <voice>}}` in the catalogue; list voices with "
            "`espeak-ng --voices`")
    return dest


def to_phone_audio(segment: Any) -> Any:
    """Mono 8 kHz, 16-bit, loudness-normalised: the input `export_mulaw` expects."""
    phone = segment.set_channels(1).set_frame_rate(SAMPLE_RATE).set_sample_width(2)
    return normalise_loudness(phone)


def normalise_loudness(segment: Any, target_dbfs: float = TARGET_DBFS,
                       ceiling_dbfs: float = PEAK_CEILING_DBFS) -> Any:
    """Gain to bring the average level (RMS dBFS) to `target_dbfs`, reduced if that would lift
    a peak above `ceiling_dbfs`. pydub's `effects.normalize` matches peaks only, which leaves
    a soft voice and a loud one at different levels."""
    if segment.dBFS < SILENT_DBFS:
        raise PromptAudioError(
            f"audio is silent ({segment.dBFS:.0f} dBFS); check the recording or the voice")
    gain = min(target_dbfs - segment.dBFS, ceiling_dbfs - segment.max_dBFS)
    return segment.apply_gain(gain)


def export_mulaw(segment: Any, dest: Path) -> None:
    """Write 8 kHz mono 8-bit mu-law WAV (format code 7) to `dest`, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    segment.export(str(tmp), format="wav", codec="pcm_mulaw",
                   parameters=["-ar", str(SAMPLE_RATE), "-ac", "1"])
    os.replace(tmp, dest)



def read_manifest(audio_dir: Path) -> dict[str, Any]:
    """The manifest's entries by `<lang>/<id>`; empty when nothing was built yet."""
    path = Path(audio_dir) / MANIFEST_NAME
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["prompts"])
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError) as exc:
        raise PromptAudioError(f"{path}: not a prompt manifest ({exc!r}); delete it and run "
                               "`ivr prompts build`") from exc


def write_manifest(audio_dir: Path, entries: dict[str, Any]) -> None:
    audio_dir = Path(audio_dir)
    audio_dir.mkdir(parents=True, exist_ok=True)
    tmp = audio_dir / f".{MANIFEST_NAME}.tmp"
    body = {"pipeline": PIPELINE, "prompts": dict(sorted(entries.items()))}
    tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, audio_dir / MANIFEST_NAME)

