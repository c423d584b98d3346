"""What a queue's callers hear between announcements: the queue's own `hold_audio:` (queues.yaml),
else the project's hold music (`ivr/prompts/hold_music.py`, built by `ivr prompts build`), else
nothing (the hold loop then `<Pause>`s, as before there was music).

    queues:
      sales:
        hold_audio: music/sales-hold.wav   # under the prompts folder: 8 kHz mono WAV
      billing:
        hold_audio: https://cdn.example.com/hold/billing.mp3   # played as is; https only

Owns the setting's check (`hold_audio_problems`, FILE:LINE for `ivr check`), reading a WAV's
format and length from its header (stdlib only) and `HoldAudio`, which the hold loop asks once
per pass: a `stat` or two, so a file added, rebuilt or deleted is noticed without a restart and
a missing one never fails the caller. A file must fit one hold loop (IVR_HOLD_PAUSE), or the
announcements would come late. Must not import Flask, Twilio or Redis.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from ivr.domain.errors import FlowError
from ivr.domain.flow.yamlsource import Problems, compose
from ivr.prompts.hold_music import music_paths

log = logging.getLogger(__name__)

FORMATS = {1: "16-bit PCM", 7: "mu-law"}
CONVERT = "ffmpeg -i IN -ar 8000 -ac 1 -c:a pcm_mulaw OUT.wav"


@dataclass(frozen=True)
class HoldPlay:
    """Play `url` (absolute), which lasts `seconds` (None: unknown, a URL of the business's)."""

    url: str
    seconds: float | None


class BadAudio(ValueError):
    """A hold file that is not what the telephone network plays well; says the fix."""


def wav_seconds(path: Path) -> float:
    """The length of an 8 kHz mono mu-law or 16-bit PCM WAV, read from its header; raises
    BadAudio naming what is wrong and how to convert the file."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
        size = os.fstat(fh.fileno()).st_size
    return wav_header_seconds(head, size)


def wav_header_seconds(head: bytes, size: int) -> float:
    """`wav_seconds` from a file's first bytes and its size (the Twilio stand-in reads the
    length of what it fetched to <Play> with this)."""
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise BadAudio(f"not a WAV file; convert it with `{CONVERT}`")
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(head):
        cid, length = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", head[pos + 8:pos + 24])
        elif cid == b"data":
            data = min(length, size - pos - 8)
            break
        pos += 8 + length + (length & 1)
    if fmt is None or data is None:
        raise BadAudio(f"a WAV without fmt/data chunks; convert it with `{CONVERT}`")
    code, channels, rate, byte_rate, _align, bits = fmt
    if code not in FORMATS or channels != 1 or rate != 8000 or (code == 1 and bits != 16):
        raise BadAudio(f"WAV format {code} with {channels} channel(s) at {rate} Hz; the phone "
                       f"wants 8000 Hz mono {' or '.join(FORMATS.values())}: `{CONVERT}`")
    return data / byte_rate


def hold_audio_problems(queues_path: Path, prompts_dir: Path,
                        hold_pause: float) -> list[FlowError]:
    """Every bad `hold_audio:` in queues.yaml, each with its line (an empty list: all fine)."""
    problems = Problems(str(queues_path))
    for queue, value, node in _settings(queues_path, problems):
        reason = _problem(value, prompts_dir, hold_pause)
        if reason:
            problems.at(node, f"queue {queue!r}: hold_audio {value!r}: {reason}")
    return problems.errors


def _settings(path: Path, problems: Problems) -> list[tuple[str, Any, yaml.Node]]:
    """(queue, value, value node) for each `hold_audio:` under `queues:`."""
    root = compose(path.read_text(encoding="utf-8"), problems)
    found = []
    for queues in _values(root, "queues"):
        for name, spec in _pairs(queues):
            for value in _values(spec, "hold_audio"):
                found.append((str(name.value), value.value if isinstance(
                    value, yaml.ScalarNode) else None, value))
    return found


def _pairs(node: yaml.Node | None) -> list[tuple[yaml.Node, yaml.Node]]:
    return list(node.value) if isinstance(node, yaml.MappingNode) else []


def _values(node: yaml.Node | None, key: str) -> list[yaml.Node]:
    return [value for k, value in _pairs(node) if k.value == key]


def _problem(value: Any, prompts_dir: Path, hold_pause: float) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "give a file under the prompts folder or an https:// URL"
    scheme = urlsplit(value).scheme
    if scheme:
        if scheme != "https" or not urlsplit(value).netloc:
            return "a URL must be https:// (Twilio fetches it; plain http can be tampered with)"
        return None
    path = _inside(prompts_dir, value)
    if path is None:
        return f"must be a relative path inside the prompts folder {prompts_dir}"
    if not path.is_file():
        return f"no such file {path}"
    try:
        seconds = wav_seconds(path)
    except (BadAudio, OSError, struct.error) as exc:
        return str(exc)
    if seconds > hold_pause + 0.5:
        return (f"lasts {seconds:.1f} s, longer than one hold loop (IVR_HOLD_PAUSE "
                f"{hold_pause:g} s): announcements would come late; trim it")
    return None


def _inside(folder: Path, relative: str) -> Path | None:
    root = folder.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


class HoldAudio:
    """Answers "what plays in queue Q's hold loop?" (`for_queue`) for `ivr/phone/holding.py`."""

    def __init__(self, base_url: str, audio_dir: Path, prompts_dir: Path,
                 queues_file: Path | None) -> None:
        self.base_url = base_url
        self.audio_dir, self.prompts_dir = Path(audio_dir), Path(prompts_dir)
        self.own = _load_own(queues_file, self.prompts_dir) if queues_file else {}
        self._seconds: dict[str, tuple[tuple[int, int], float | None]] = {}
        self._music: tuple[tuple[int, int, int], HoldPlay] | None = None

    def for_queue(self, queue: str) -> HoldPlay | None:
        own = self.own.get(queue)
        if own is not None:
            if urlsplit(own).scheme:
                return HoldPlay(own, None)
            stamp, seconds = self._file_seconds(self.prompts_dir / own)
            if seconds is not None:
                return HoldPlay(f"{self.base_url}/prompts/hold/{quote(queue, safe='')}.wav"
                                f"?v={stamp[0]:x}{stamp[1]:x}", seconds)
        return self.music()

    def own_file(self, queue: str) -> Path | None:
        """The queue's own hold file (for the route that serves it), if it has a local one."""
        own = self.own.get(queue)
        return self.prompts_dir / own if own and not urlsplit(own).scheme else None

    def music(self) -> HoldPlay | None:
        """The built hold music, when its WAV and description are both there; the description
        is re-read only when it changes (a build ran), as the prompt manifest is."""
        wav, info = music_paths(self.audio_dir)
        try:
            st = os.stat(info)
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        if self._music is None or self._music[0] != stamp:
            try:
                described = json.loads(info.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            self._music = (stamp, HoldPlay(
                f"{self.base_url}/prompts/music/hold.wav"
                f"?v={str(described.get('source_sha', ''))[:12]}",
                float(described.get("seconds") or 0) or None))
        return self._music[1] if os.path.isfile(wav) else None

    def _file_seconds(self, path: Path) -> tuple[tuple[int, int], float | None]:
        """The file's length, re-read only when it changes; None when it is gone or bad."""
        try:
            st = os.stat(path)
        except OSError:
            return (0, 0), None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._seconds.get(str(path))
        if cached is None or cached[0] != stamp:
            try:
                cached = (stamp, wav_seconds(path))
            except (BadAudio, OSError, struct.error) as exc:
                log.warning("hold audio %s unusable, playing the default: %s", path, exc)
                cached = (stamp, None)
            self._seconds[str(path)] = cached
        return cached


def _load_own(queues_file: Path, prompts_dir: Path) -> dict[str, str]:
    """Each queue's `hold_audio` that passes the check; a bad one is logged (it is `ivr
    check`'s to refuse) and its queue gets the default, so callers never hear an error."""
    if not Path(queues_file).is_file():
        return {}
    problems = Problems(str(queues_file))
    own = {}
    for queue, value, _node in _settings(Path(queues_file), problems):
        if isinstance(value, str) and (not urlsplit(value).scheme or value.startswith(
                "https://")) and (urlsplit(value).scheme or _inside(prompts_dir, value)):
            own[queue] = value
        else:
            log.error("queues.yaml: queue %r: hold_audio %r refused (see `ivr check`)",
                      queue, value)
    return own
