"""Line numbers for settings files read with `yaml.safe_load`, so their errors can say
FILE:LINE like a call flow's do.

The file is composed as well as loaded (`yaml.compose`, SafeLoader: the same document, with
marks); `YamlLines.line(*path)` walks mapping keys and sequence indexes and returns the
1-based line of the deepest node it reaches, so a key the author left out still points at
its parent. A text that does not compose, or data built in code, gives no lines: messages
then say FILE alone. Reads no files; the caller passes the text.
"""

from __future__ import annotations

import yaml

from ivr.domain.flow.yamlsource import composed


class YamlLines:
    def __init__(self, text: str | None = None) -> None:
        self.root: yaml.Node | None = None
        if text:
            try:
                self.root = composed(text)  # no aliases; remembered by the text
            except yaml.YAMLError:
                self.root = None  # safe_load reports the syntax error with its own mark

    def line(self, *path: str | int) -> int | None:
        """The line of the value at `path` (or of its deepest ancestor present)."""
        node = self.root
        if node is None:
            return None
        for step in path:
            found = _child(node, step)
            if found is None:
                break
            node = found[1]
        return int(node.start_mark.line) + 1

    def key_line(self, *path: str | int) -> int | None:
        """The line of the mapping key that ends `path` (an unknown key is reported where
        it is written, not where its value starts)."""
        parent = self.root
        for step in path[:-1]:
            found = _child(parent, step) if parent is not None else None
            parent = found[1] if found else None
        found = _child(parent, path[-1]) if parent is not None and path else None
        return int(found[0].start_mark.line) + 1 if found else self.line(*path)

    def where(self, source: str, *path: str | int, key: bool = False) -> str:
        """`FILE:LINE` for the node at `path` (its key with `key=True`), or `FILE` when
        there are no lines."""
        line = self.key_line(*path) if key else self.line(*path)
        return f"{source}:{line}" if line else source


def _child(node: yaml.Node, step: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(key node, value node) of `step` in a mapping, (item, item) in a sequence."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
            and 0 <= step < len(node.value):
        item: yaml.Node = node.value[step]
        return item, item
    return None
