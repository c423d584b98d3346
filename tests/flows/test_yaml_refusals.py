"""Anchors, aliases, deep nesting and oversize documents are refused with FILE:LINE before
anything walks the YAML (issue 12, item 7c): in the flow loader, `ivr check`, followup.yaml and
queues.yaml. The admin editor's side is tests/dashboards/test_flow_yaml_refusals.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivr.config.settings import REPO_ROOT
from ivr.domain.errors import ConfigError, FlowErrors
from ivr.domain.flow.loader import MAX_FLOW_BYTES, load_flow
from ivr.domain.flow.yamlsource import MAX_DEPTH, YamlRefused, load_data
from ivr.prompts.catalog import load_catalog


def billion_laughs(levels: int = 9) -> str:
    """A flow-shaped draft of about 600 bytes whose `next:` expands to 10**levels strings."""
    lines = ["flow: shop", "languages: [en-US]", "start: boom", "bombs:",
             "  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  - &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels)]
    lines += ["nodes:", "  boom:", "    type: say", "    say: goodbye", f"    next: *a{levels - 1}"]
    return "\n".join(lines) + "\n"


BOMB_LINE = 5  # the first anchor


def catalog():  # noqa: ANN201 - the repository's prompt catalogue
    return load_catalog(REPO_ROOT / "prompts" / "catalog.yaml")


def test_billion_laughs_is_refused_at_its_first_anchor() -> None:
    assert len(billion_laughs()) < 800
    with pytest.raises(FlowErrors) as refused:
        load_flow(billion_laughs(), "draft.yaml", catalog())
    [error] = refused.value.errors
    assert (error.file, error.line) == ("draft.yaml", BOMB_LINE)
    assert "anchors (&a0) are not allowed" in error.reason


def test_an_alias_alone_is_refused_too() -> None:
    text = "flow: x\nlanguages: [en-US]\nstart: a\nnodes:\n  a:\n    type: say\n    say: *nope\n"
    with pytest.raises(FlowErrors) as refused:
        load_flow(text, "f.yaml", catalog())
    assert [(e.line, "aliases (*nope)" in e.reason) for e in refused.value.errors] == [(7, True)]


def test_nesting_deeper_than_the_limit_is_refused_not_a_recursion_error() -> None:
    deep = "flow: x\nnodes:\n  a: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(FlowErrors) as refused:
        load_flow(deep, "deep.yaml", catalog())
    assert f"nested deeper than {MAX_DEPTH} levels" in str(refused.value)
    assert refused.value.errors[0].line == 3
    load_data("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))  # the limit itself is fine


def test_oversize_flow_is_refused_at_the_line_that_passes_the_limit() -> None:
    text = "flow: x\n" + "# padding padding padding padding\n" * (MAX_FLOW_BYTES // 30)
    with pytest.raises(FlowErrors) as refused:
        load_flow(text, "big.yaml", catalog())
    [error] = refused.value.errors
    assert f"the limit is {MAX_FLOW_BYTES}" in error.reason
    assert error.line == text.encode()[:MAX_FLOW_BYTES].count(b"\n") + 1


def test_ivr_check_prints_file_and_line(tmp_path: Path) -> None:
    draft = tmp_path / "bomb.yaml"
    draft.write_text(billion_laughs())
    done = subprocess.run([sys.executable, "-m", "ivr.commands.cli", "check", str(draft)],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{draft}:{BOMB_LINE}: anchors (&a0) are not allowed" in done.stdout
    assert "Traceback" not in done.stderr


def test_followup_rules_refuse_anchors(tmp_path: Path) -> None:
    from ivr.outcomes.followup import load_rules_file

    rules = tmp_path / "followup.yaml"
    rules.write_text("defaults: &d {owner: support}\nrules: []\n")
    with pytest.raises(FlowErrors) as refused:
        load_rules_file(rules)
    assert [(e.file, e.line) for e in refused.value.errors] == [(str(rules), 1)]
    assert "anchors (&d)" in str(refused.value)


def test_queues_yaml_refuses_aliases(tmp_path: Path) -> None:
    from ivr.config.queues import load_queues

    setup = yaml.safe_load((REPO_ROOT / "queues.yaml").read_text())
    text = yaml.safe_dump(setup) + "spare: *nothing\n"
    path = tmp_path / "queues.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_queues(path)
    assert "aliases (*nothing) are not allowed" in str(refused.value)
    assert f"{path}:{len(text.splitlines())}: " in str(refused.value)


def test_load_data_refuses_what_the_composer_refuses() -> None:
    with pytest.raises(YamlRefused):
        load_data(billion_laughs())
    with pytest.raises(YamlRefused, match="the limit is 10"):
        load_data("a: 1\nb: 2\nc: 3\n", max_bytes=10)
