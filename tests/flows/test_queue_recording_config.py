"""queues.yaml's `recording:` section (issue 14, item 4): on or off (bare or quoted), the
announcement (a prompt id or a sentence), transcribe; anything else refused by `ivr check`
and the loader with FILE:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.check import command as check_command
from ivr.config.queues import load_queues
from ivr.config.settings import REPO_ROOT
from ivr.domain.errors import ConfigError
from ivr.domain.queueing import RecordingSettings

from .conftest import CATALOG, FLOWS_DIR

QUEUES = """\
queues:
  support:
    skill: support
    recording: {mode: on, announcement: call_recording_notice, transcribe: true}
  sales:
    skill: sales
    recording:
      mode: "off"
  billing:
    skill: billing
    recording: {mode: 'on', announcement: "Calls are recorded. Say stop to opt out."}
  general:
    skill: support
"""


def check(tmp_path: Path, text: str) -> tuple[int, list[str], Path]:
    path = tmp_path / "queues.yaml"
    path.write_text(text)
    result = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG),
                                                "--queues", str(path)])
    return result.exit_code, result.output.splitlines(), path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_recording_settings_are_read_bare_or_quoted_and_default_to_off(tmp_path: Path):
    path = tmp_path / "queues.yaml"
    path.write_text(QUEUES)
    queues = load_queues(path).queues
    assert queues["support"].recording == RecordingSettings("on", "call_recording_notice", True)
    assert queues["sales"].recording == RecordingSettings("off", "", False)
    assert queues["billing"].recording == RecordingSettings(
        "on", "Calls are recorded. Say stop to opt out.", False)
    assert queues["general"].recording == RecordingSettings()
    assert not queues["general"].recording.on
    assert queues["billing"].recording.on


def test_a_file_written_back_by_a_yaml_tool_reads_the_same(tmp_path: Path):
    """yaml.safe_dump writes `mode: off` back as `mode: false`: still off (and true, on)."""
    import yaml

    path = tmp_path / "queues.yaml"
    path.write_text(yaml.safe_dump(yaml.safe_load(QUEUES.replace("mode: \"off\"", "mode: off"))))
    assert "mode: false" in path.read_text()
    assert "mode: true" in path.read_text()
    queues = load_queues(path).queues
    assert [queues[q].recording.mode for q in ("support", "sales", "billing")] == [
        "on", "off", "on"]


def test_the_shipped_file_records_nothing_yet_and_passes():
    setup = load_queues(REPO_ROOT / "queues.yaml")
    assert {q: c.recording.mode for q, c in setup.queues.items()} == {
        "support": "off", "sales": "off", "billing": "off"}
    assert setup.queues["support"].recording.announcement == "call_recording_notice"


@pytest.mark.parametrize(("old", "new", "marker", "message"), [
    ("mode: on, announcement: call", "mode: maybe, announcement: call", "mode: maybe",
     "queues.support.recording.mode: 'maybe' is not on or off"),
    ("mode: on, announcement: call", "mode: 'yes', announcement: call", "mode: 'yes'",
     "queues.support.recording.mode: 'yes' is not on or off"),
    ("transcribe: true}", "transcribe: sometimes}", "sometimes",
     "queues.support.recording.transcribe: sometimes is read as text; it must be true or false"),
    ("      mode: \"off\"\n", "      mode: \"off\"\n      keep_days: 9\n", "keep_days",
     "queues.sales.recording: unknown key 'keep_days'; known: mode, announcement, transcribe"),
    ("announcement: call_recording_notice", "announcement: call_recording_notise",
     "notise", "queue 'support' recording announcement 'call_recording_notise' is not a "
     "prompt in the catalogue"),
])
def test_a_bad_recording_setting_is_refused_at_its_line(tmp_path: Path, old: str, new: str,
                                                        marker: str, message: str):
    assert old in QUEUES
    code, output, path = check(tmp_path, QUEUES.replace(old, new, 1))
    line = line_of(path, marker)
    assert code == 1, output
    assert any(o.startswith(f"{path}:{line}: ") and message in o for o in output), output


def test_a_good_file_passes_the_check(tmp_path: Path):
    code, output, _ = check(tmp_path, QUEUES)
    assert code == 0, output


def test_the_loader_refuses_what_the_check_refuses(tmp_path: Path):
    path = tmp_path / "queues.yaml"
    path.write_text(QUEUES.replace("mode: on,", "mode: 1,", 1))
    with pytest.raises(ConfigError, match=rf"{path}:4: queues.support.recording.mode: 1 is "
                                          "read as a number; it must be on or off"):
        load_queues(path)
