"""The help screen (`?`): every key, grouped by where it works, generated from the bindings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "HelpSection", "help_sections", "help_table", "key_rows"]

HelpSection = tuple[str, Sequence[BindingType]]
"""A title ("Main screen") and the bindings in force there."""


def key_rows(bindings: Sequence[BindingType], key_display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """One row per action, in the bindings' order: its keys (`key_display` of each binding, joined
    with " / ") and what it does (the first binding's tooltip, else its description). System
    bindings and bindings without a description are left out."""
    rows: dict[str, tuple[list[str], str]] = {}
    for binding in Binding.make_bindings(bindings):
        what = binding.tooltip or binding.description
        if binding.system or not what:
            continue
        keys, _ = rows.setdefault(binding.action, ([], what))
        shown = key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [(" / ".join(keys), what) for keys, what in rows.values()]


def help_sections(app_bindings: Sequence[BindingType]) -> list[HelpSection]:
    """What the help screen lists: the bindings of the app (`app_bindings`), the main screen, the
    record screen and the health screen."""
    from textual.app import App
    from textual.widgets import Tabs, Tree

    from tui.screens.detail import DetailScreen
    from tui.screens.health import HealthScreen
    from tui.screens.main import MainScreen
    from tui.widgets.virtual_table import VirtualTable

    tree_keys = [
        binding
        for binding in Binding.make_bindings(Tree.BINDINGS)
        if binding.action in ("select_cursor", "toggle_node")
    ]
    return [
        ("Main and record screens", [*app_bindings, *App.BINDINGS]),
        ("Main screen", [*VirtualTable.BINDINGS, *MainScreen.BINDINGS]),
        ("Record screen", [*DetailScreen.BINDINGS, *Tabs.BINDINGS, *tree_keys]),
        ("Health screen", list(HealthScreen.BINDINGS)),
    ]


def help_table(sections: Sequence[HelpSection], key_display: Callable[[Binding], str]) -> Table:
    """The sections' keys in two columns of sections (the first half on the left), each section a
    title and a grid of keys and what they do."""
    half = (len(sections) + 1) // 2
    layout = Table.grid(padding=(0, 3))
    layout.add_column(ratio=1)
    layout.add_column(ratio=1)
    layout.add_row(*(_column(part, key_display) for part in (sections[:half], sections[half:])))
    return layout


def _column(sections: Sequence[HelpSection], key_display: Callable[[Binding], str]) -> Group:
    parts: list[RenderableType] = []
    for number, (title, bindings) in enumerate(sections):
        parts.append(Text(("\n" if number else "") + title, style="bold underline"))
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for shown, what in key_rows(bindings, key_display):
            keys.add_row(Text(shown), Text(what))
        parts.append(keys)
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """Every key of `sections` (the app passes its screens' bindings), and what a flow status means."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 136; max-width: 95%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("lambdest-tui keys", style="bold"))
            yield Static(help_table(self.sections, self.app.get_key_display))
            yield Static(
                Text(
                    "\nFlow status: completed (every stage seen succeeded), failed (a stage failed and nothing "
                    "handled it), rolled back (each failure was handled by a successful downstream function, "
                    "e.g. rollback-order), awaiting records (a test order was sent; nothing arrived yet). "
                    "A stage marked as seen nested is known only from inside a downstream record.",
                    style="dim",
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)
