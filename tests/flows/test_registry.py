"""FlowRegistry: routing by dialed number, versions, and reloads that refuse invalid changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.commands.check import command as check_command
from ivr.commands.schema import command as schema_command
from ivr.domain.errors import FlowErrors, NotFound
from ivr.flows.registry import FlowRegistry
from ivr.prompts.catalog import PromptCatalog, load_catalog

from .conftest import CATALOG, FLOWS_DIR


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    target = tmp_path / "callflows"
    shutil.copytree(FLOWS_DIR, target, ignore=shutil.ignore_patterns("*.md"))
    shutil.copy(CATALOG, tmp_path / "catalog.yaml")
    return target


@pytest.fixture
def registry(flows_dir: Path) -> FlowRegistry:
    return FlowRegistry(flows_dir, load_catalog(flows_dir.parent / "catalog.yaml"))


def touch_later(path: Path, text: str) -> None:
    """Write and move the mtime forward, so a same-tick write still counts as a change."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_routes_by_number_with_default_fallback(registry: FlowRegistry) -> None:
    assert registry.flow_for_number("+14155550199").id == "utility"
    assert registry.flow_for_number("+14155550100").id == "shop"
    assert registry.flow_for_number("+19999999999").id == "shop"  # the default flow
    assert sorted(registry.flow_ids()) == ["shop", "utility"]
    with pytest.raises(NotFound):
        registry.flow_by_id("nope")


def test_reload_is_a_no_op_without_changes(registry: FlowRegistry) -> None:
    assert registry.reload() is False


def test_valid_change_goes_live_with_a_new_version(registry: FlowRegistry,
                                                   flows_dir: Path) -> None:
    before = registry.version("utility")
    path = flows_dir / "utility.yaml"
    touch_later(path, path.read_text().replace("timeout: 2\n", "timeout: 3\n"))
    assert registry.reload() is True
    assert registry.version("utility") != before
    assert registry.version("shop") == registry.flow_by_id("shop").version


def test_reload_if_due_looks_at_most_once_per_interval_and_sees_the_edit_after_it(
        flows_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The call start's look (IVR_FLOW_CHECK_EVERY): the first call looks; an edit saved
    within the interval is heard by the first call once the interval has passed."""
    now = [100.0]
    registry = FlowRegistry(flows_dir, load_catalog(flows_dir.parent / "catalog.yaml"),
                            check_every=1.0, clock=lambda: now[0])
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: stats.append(p) or real_stat(p, *a, **k))
    assert registry.reload_if_due() is False  # the first look: nothing changed
    looked = len(stats)
    assert looked > 0
    before = registry.version("utility")
    path = flows_dir / "utility.yaml"
    touch_later(path, path.read_text().replace("timeout: 2\n", "timeout: 3\n"))
    stats.clear()
    now[0] += 0.999
    assert registry.reload_if_due() is False  # within the interval: no look at all
    assert stats == []
    assert registry.version("utility") == before
    now[0] += 0.001
    assert registry.reload_if_due() is True   # the next call after it hears the edit
    assert registry.version("utility") != before


def test_reload_if_due_with_no_interval_looks_every_time(registry: FlowRegistry,
                                                         flows_dir: Path) -> None:
    assert registry.check_every == 0
    assert registry.reload_if_due() is False
    path = flows_dir / "utility.yaml"
    touch_later(path, path.read_text().replace("timeout: 2\n", "timeout: 3\n"))
    assert registry.reload_if_due() is True


def test_invalid_change_is_refused_and_live_flows_keep_serving(
        registry: FlowRegistry, flows_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    live = registry.versions()
    path = flows_dir / "utility.yaml"
    text = path.read_text().replace("'1': {goto: ask_postcode", "1: {goto: ask_postcode")
    touch_later(path, text)
    assert registry.reload() is False
    assert registry.versions() == live
    assert "quote it: '1':" in caplog.text
    caplog.clear()
    assert registry.reload() is False      # the same refused files are not re-read or re-logged
    assert caplog.text == ""


def test_catalog_change_that_drops_a_prompt_is_refused(registry: FlowRegistry,
                                                       flows_dir: Path) -> None:
    catalog = flows_dir.parent / "catalog.yaml"
    touch_later(catalog, catalog.read_text().replace("  storm_notice:", "  storm_notice_x:"))
    assert registry.reload() is False
    touch_later(catalog, catalog.read_text().replace("  storm_notice_x:", "  storm_notice:"))
    assert registry.reload() is True


def test_two_defaults_fail_at_start(flows_dir: Path) -> None:
    path = flows_dir / "utility.yaml"
    path.write_text(path.read_text().replace("numbers:", "default: true\nnumbers:"))
    with pytest.raises(FlowErrors, match="exactly one flow must say default: true"):
        FlowRegistry(flows_dir, load_catalog(flows_dir.parent / "catalog.yaml"))


def test_check_command_ok_and_problems(flows_dir: Path) -> None:
    runner = CliRunner()
    catalog = str(flows_dir.parent / "catalog.yaml")
    ok = runner.invoke(check_command, [str(flows_dir), "--catalog", catalog])
    assert ok.exit_code == 0
    assert ok.output.splitlines()[0] == "ok: 2 flows"
    bad = flows_dir / "bad.yaml"
    bad.write_text("flow: bad\nlanguages: [en-US]\nstart: a\nnodes:\n  a: {type: say}\n")
    result = runner.invoke(check_command, [str(bad), "--catalog", catalog])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{bad}:1: missing required section 'fallback'" in lines
    assert all(line.startswith(f"{bad}:") for line in lines)


def test_schema_command_prints_json_schema() -> None:
    import json

    result = CliRunner().invoke(schema_command, [])
    schema = json.loads(result.output)
    assert schema["title"] == "IVR call flow"
    node_types = {n["properties"]["type"]["enum"][0]
                  for n in schema["properties"]["nodes"]["additionalProperties"]["oneOf"]}
    assert {"say", "menu", "input", "branch", "hours", "lookup", "set", "queue", "voicemail",
            "transfer", "survey", "goto", "hangup"} == node_types


def test_catalog_has_every_prompt_in_both_languages(catalog: PromptCatalog) -> None:
    missing = [(pid, lang) for pid in catalog.ids for lang in ("en-US", "es-US")
               if not catalog.has(pid, lang)]
    assert missing == []


def test_a_refused_calendars_file_keeps_the_live_flows_and_their_closures(
        flows_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """calendars.yaml is watched like a flow file: a good edit goes live with the flows, a
    bad one is refused and the flows keep the calendar they had (issue 13, item 5)."""
    from datetime import date

    calendars = flows_dir.parent / "calendars.yaml"
    shutil.copy(FLOWS_DIR.parent / "calendars.yaml", calendars)
    registry = FlowRegistry(flows_dir, load_catalog(flows_dir.parent / "catalog.yaml"),
                            calendars_file=calendars)
    schedule = registry.flow_by_id("shop").schedules["contact_center"]
    assert schedule.calendar is not None
    assert schedule.calendar.closure(date(2026, 12, 28)) is not None  # the stocktake
    touch_later(calendars, calendars.read_text().replace('"2026-12-28"', '"2026-12-29"'))
    assert registry.reload() is True
    schedule = registry.flow_by_id("shop").schedules["contact_center"]
    assert schedule.calendar is not None
    assert schedule.calendar.closure(date(2026, 12, 28)) is None
    assert schedule.calendar.closure(date(2026, 12, 29)) is not None
    live = registry.versions()
    touch_later(calendars, calendars.read_text().replace("    closed:", "    closd:"))
    assert registry.reload() is False
    assert registry.versions() == live
    assert f"{calendars}:" in caplog.text
    assert "unknown key 'closd'" in caplog.text
    schedule = registry.flow_by_id("shop").schedules["contact_center"]
    assert schedule.calendar is not None
    assert schedule.calendar.closure(date(2026, 12, 29)) is not None
