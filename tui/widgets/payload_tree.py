"""A JSON value as a collapsible tree (Textual's `Tree`), every label built as plain `Text`.

Each node's data is its path (`requestPayload.items[0].sku`) and value, so the screen can copy
either to the clipboard. Strings are shown JSON-quoted and passed through `visible`, so neither
Rich markup nor terminal escape sequences in a payload can do anything but show.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from records.lines import visible

__all__ = ["AUTO_EXPAND_NODES", "MAX_CHILDREN", "NodeData", "PayloadTree", "child_path", "scalar_text"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
MAX_CHILDREN = 500  # nodes shown per object or array; the rest is summarised in one line
AUTO_EXPAND_NODES = 200  # small values open fully; large ones open one level


@dataclass(frozen=True, slots=True)
class NodeData:
    """What a tree node holds: its path in the record and its value."""

    path: str
    value: Any

    def value_text(self) -> str:
        """The value as text for the clipboard: strings as they are, everything else as JSON."""
        if isinstance(self.value, str):
            return self.value
        return json.dumps(self.value, indent=2, ensure_ascii=False)


def child_path(parent: str, key: str | int) -> str:
    """The path of a child: `parent.key`, `parent["odd key"]` or `parent[0]`."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key, ensure_ascii=False)}]"


def scalar_text(value: Any) -> Text:
    """A scalar with JSON syntax colours, literal and escaped."""
    if isinstance(value, str):
        return Text(visible(json.dumps(value, ensure_ascii=False)), style="green")
    if isinstance(value, bool) or value is None:
        return Text(json.dumps(value), style="italic magenta")
    if isinstance(value, int | float):
        return Text(json.dumps(value), style="cyan")
    return Text(visible(repr(value)))


def _size(value: Any, limit: int) -> int:
    """Nodes in a value, counting no further than `limit`."""
    stack = [value]
    count = 0
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


class PayloadTree(Tree[NodeData]):
    """`PayloadTree(label, value, root_path)`: the value under a root named `label`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, tooltip="(JSON tree) next node"),
        Binding("k", "cursor_up", "Up", show=False, tooltip="(JSON tree) previous node"),
    ]

    DEFAULT_CSS = """
    PayloadTree { background: $surface; }
    """

    def __init__(
        self, label: str, value: Any, root_path: str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(Text(visible(label), style="bold"), NodeData(root_path, value), id=id, classes=classes)
        self.guide_depth = 3
        self._value = value
        self._root_path = root_path

    def on_mount(self) -> None:
        self.show_value(self._value, self._root_path)

    def show_value(self, value: Any, root_path: str) -> None:
        self.clear()
        self.root.data = NodeData(root_path, value)
        self._add(self.root, value, root_path)
        if _size(value, AUTO_EXPAND_NODES) <= AUTO_EXPAND_NODES:
            self.root.expand_all()
        else:
            self.root.expand()

    def _add(self, node: TreeNode[NodeData], value: Any, path: str) -> None:
        items: list[tuple[str | int, Any]]
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            node.add_leaf(scalar_text(value), NodeData(path, value))
            return
        for key, item in items[:MAX_CHILDREN]:
            item_path = child_path(path, key)
            key_text = Text(f"[{key}]" if isinstance(key, int) else visible(str(key)), style="bold blue")
            if isinstance(item, dict | list):
                brackets = "{}" if isinstance(item, dict) else "[]"
                label = Text.assemble(key_text, " ", Text(f"{brackets[0]}{len(item)}{brackets[1]}", style="dim"))
                child = node.add(label, NodeData(item_path, item))
                self._add(child, item, item_path)
            else:
                node.add_leaf(Text.assemble(key_text, ": ", scalar_text(item)), NodeData(item_path, item))
        if len(items) > MAX_CHILDREN:
            node.add_leaf(Text(f"… {len(items) - MAX_CHILDREN} more (see Raw)", style="dim"), None)

    def selected_data(self) -> NodeData | None:
        node = self.cursor_node
        return node.data if node is not None else None
