"""Flows may only hand callers to queues and skills that queues.yaml knows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.check import command as check_command
from ivr.config.queues import load_queues
from ivr.config.settings import REPO_ROOT
from ivr.domain.errors import FlowErrors
from ivr.flows.registry import FlowRegistry
from ivr.prompts.catalog import load_catalog

from .conftest import CATALOG, FLOWS_DIR


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    target = tmp_path / "callflows"
    shutil.copytree(FLOWS_DIR, target, ignore=shutil.ignore_patterns("*.md"))
    return target


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_unknown_queue_and_skill_are_reported_at_their_lines(flows_dir: Path):
    shop = flows_dir / "shop.yaml"
    shop.write_text(shop.read_text().replace("  billing: {skill: billing}",
                                             "  billing: {skill: biling}")
                    .replace("  sales: {skill: sales}", "  sales: {skill: sales}\n"
                             "  returns: {skill: support}"))
    result = CliRunner().invoke(check_command, [str(flows_dir), "--catalog", str(CATALOG),
                                                "--queues", str(REPO_ROOT / "queues.yaml")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (f"{shop}:{line_of(shop, 'returns:')}: queue 'returns' is not in queues.yaml; "
            "add it there or use one of billing, sales, support") in lines
    assert any(line.startswith(f"{shop}:{line_of(shop, 'skill: biling')}: skill 'biling'")
               for line in lines)


def test_demo_flows_pass_the_queue_check():
    result = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG)])
    assert result.exit_code == 0, result.output


def test_registry_refuses_a_flow_naming_an_unknown_queue(flows_dir: Path):
    from ivr.app.queues_check import queue_problems

    setup = load_queues(REPO_ROOT / "queues.yaml")
    shop = flows_dir / "shop.yaml"
    shop.write_text(shop.read_text().replace("  billing: {skill: billing}",
                                             "  billing: {skill: billing}\n  vip: {}"))
    with pytest.raises(FlowErrors, match="queue 'vip' is not in queues.yaml"):
        FlowRegistry(flows_dir, load_catalog(CATALOG),
                     extra_check=lambda flows: queue_problems(flows, setup))


def test_check_refuses_broken_followup_rules_with_file_and_line(tmp_path: Path):
    rules = tmp_path / "followup.yaml"
    shipped = (REPO_ROOT / "followup.yaml").read_text()

    def check(text: str) -> list[str]:
        rules.write_text(text)
        result = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG),
                                                    "--followup", str(rules)])
        assert result.exit_code == 1
        return result.output.splitlines()

    assert check(shipped.replace("due: 4h", "due: 4 hours")) == [
        f"{rules}:{line_of(rules, 'due: 4 hours')}: rule voicemail: due: 4 hours is not "
        "a duration; write a number and a unit, e.g. 90s, 30m, 4h or 2d"]
    assert check(shipped.replace("question: satisfaction", "question: satisfactoin")) == [
        f"{rules}:{line_of(rules, 'low_satisfaction:')}: rule low_satisfaction: survey "
        "question 'satisfactoin' is not asked by any flow's survey node; known: resolved, "
        "satisfaction"]
    ok = CliRunner().invoke(check_command, [str(FLOWS_DIR), "--catalog", str(CATALOG)])
    assert ok.output.splitlines()[1].startswith("ok: 8 follow-up rules")
