"""A queue's `recording:` section of queues.yaml (issue 14, item 4): whether its agent calls are
recorded, what the caller hears first, and whether the recordings are transcribed.

    queues:
      support:
        recording: {mode: on, announcement: call_recording_notice, transcribe: false}

`mode` is on or off (bare or quoted: both read as the word; default off). `announcement` is a
prompt id of prompts/catalog.yaml (played or said in the caller's language) or, when no
prompt has that name, the sentence said as written; empty or omitted with `mode: on`, the
`call_recording_notice` prompt. The shape (keys, types) is checked with FILE:LINE by
`ivr.domain.config_formats.RECORDING` before this runs; `recording_problems` (run by `ivr
check`) adds what needs the catalogue. Reads no files and no environment.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from ivr.config.yaml_lines import YamlLines
from ivr.domain.errors import FlowError
from ivr.domain.queueing import QueueConfig, RecordingSettings

DEFAULT_NOTICE = "call_recording_notice"
PROMPT_LIKE = re.compile(r"^[a-z][a-z0-9_]*$")  # one word of the catalogue's id form


def parse_recording(spec: Any) -> RecordingSettings:
    """The settings of one queue's `recording:` value (already shape-checked; None: off)."""
    if not isinstance(spec, Mapping):
        return RecordingSettings()
    raw = spec.get("mode", "off")
    on = raw is True or str(raw).lower() == "on"
    return RecordingSettings(mode="on" if on else "off",
                             announcement=str(spec.get("announcement") or "").strip(),
                             transcribe=bool(spec.get("transcribe", False)))


def announcement_prompt(settings: RecordingSettings) -> str:
    """The prompt id or sentence the caller hears first when the queue records."""
    return settings.announcement or DEFAULT_NOTICE


def recording_problems(queues: Mapping[str, QueueConfig], prompt_ids: Collection[str],
                       source: str, text: str | None = None) -> list[FlowError]:
    """An announcement written like a prompt id (one lower-case word) that the catalogue
    does not have: a typo would otherwise be read out to every caller as the bare word."""
    lines = YamlLines(text)
    problems = []
    for name, cfg in queues.items():
        said = announcement_prompt(cfg.recording)
        if cfg.recording.on and PROMPT_LIKE.match(said) and said not in prompt_ids:
            line = lines.line("queues", name, "recording", "announcement") or 0
            problems.append(FlowError(source, line, (
                f"queue {name!r} recording announcement {said!r} is not a prompt in the "
                "catalogue; add it to prompts/catalog.yaml or write the sentence to say")))
    return problems
