"""One composed tree per YAML text (`composed` in ivr/domain/flow/yamlsource.py) serves every
reader: an app start reads the shipped flows and config files through all of them and leaves
each tree exactly as a fresh compose makes it; errors are raised every time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.domain.flow import yamlsource
from ivr.domain.flow.yamlsource import StrictLoader, composed

from .conftest import FLOW_FILES, ROOT

TEXT_FILES = [*FLOW_FILES, *(ROOT / name for name in (
    "queues.yaml", "lookups.yaml", "followup.yaml", "calendars.yaml"))]


def shape(node: Any) -> Any:
    """Everything a reader can see of a node: tag, value or children, and where it starts."""
    where = (node.tag, node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.ScalarNode):
        return (*where, node.value, node.style)
    if isinstance(node, yaml.SequenceNode):
        return (*where, [shape(item) for item in node.value])
    return (*where, [(shape(key), shape(value)) for key, value in node.value])


def test_the_same_text_gives_the_same_tree() -> None:
    text = (ROOT / "queues.yaml").read_text(encoding="utf-8")
    assert composed(text) is composed(text)
    assert composed(text + "\n# another text\n") is not composed(text)


def test_an_app_start_leaves_every_tree_as_composed(redis_url: str, tmp_path: Path) -> None:
    from ivr import create_app

    texts = [path.read_text(encoding="utf-8") for path in TEXT_FILES]
    create_app({"redis_url": redis_url, "instance_dir": tmp_path / "instance",
                "twilio_auth_token": "t", "public_base_url": "https://ivr.example.test"})
    create_app({"redis_url": redis_url, "instance_dir": tmp_path / "instance2",
                "twilio_auth_token": "t", "public_base_url": "https://ivr.example.test"})
    for text in texts:
        assert shape(composed(text)) == shape(yaml.compose(text, Loader=StrictLoader))


@pytest.mark.parametrize("path", [*TEXT_FILES, ROOT / "prompts" / "catalog.yaml"],
                         ids=lambda p: p.name)
def test_data_built_from_the_tree_is_safe_loads_and_new_each_time(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = yamlsource.load_data(text)
    assert first == yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader
    assert yamlsource.load_data(text) is not first
    assert yamlsource.load_data("") is None
    assert yaml.safe_load("") is None


def test_large_texts_are_composed_each_time() -> None:
    text = "a: 1\n" + "# padding\n" * (yamlsource.REMEMBERED_MAX_BYTES // 10 + 1)
    assert len(text) > yamlsource.REMEMBERED_MAX_BYTES
    assert composed(text) is not composed(text)
    assert shape(composed(text)) == shape(yaml.compose(text, Loader=StrictLoader))


@pytest.mark.parametrize("text", ["a: [1, 2\n", "a: &x 1\nb: *x\n"])
def test_errors_are_raised_every_time(text: str) -> None:
    for _ in range(2):
        with pytest.raises(yaml.YAMLError):
            composed(text)
