"""queues.yaml's `disposition_required:` (issue 14, item 5): true keeps the agent in wrap-up
until a disposition is filed; read by the loader, default false; anything but a boolean
refused by `ivr check` with FILE:LINE."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ivr.commands.check import command as check_command
from ivr.config.queues import load_queues

from .conftest import CATALOG, FLOWS_DIR

QUEUES = """\
queues:
  support:
    skill: support
    disposition_required: true
  sales:
    skill: sales
"""


def test_disposition_required_is_read_and_defaults_to_false(tmp_path: Path):
    path = tmp_path / "queues.yaml"
    path.write_text(QUEUES)
    queues = load_queues(path).queues
    assert (queues["support"].disposition_required, queues["sales"].disposition_required) == (
        True, False)


def test_a_non_boolean_is_refused_at_its_line(tmp_path: Path):
    path = tmp_path / "queues.yaml"
    path.write_text(QUEUES.replace("disposition_required: true", "disposition_required: always"))
    result = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG),
                                                "--queues", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:4" in result.output
    assert "queues.support.disposition_required: always is read as text; it must be true or " \
           "false" in result.output
