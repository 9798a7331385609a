"""The sources panel (`S`): each source's state, mode, records, last reason in full, and since when.

The status bar keeps one short state per source; a reason too long for it, or one that a toast
showed and took away, stays readable here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from records.lines import visible
from records.sources.base import SourceStatus
from tui.views import age_text, clock_text
from tui.widgets.status import STATE_STYLES

__all__ = ["SourcesScreen", "sources_panel_text"]


def sources_panel_text(
    statuses: Mapping[str, SourceStatus],
    since: Mapping[str, float],
    problems: Mapping[str, tuple[str, float]],
    counts: Mapping[str, int],
    now: float,
) -> Text:
    """Each source: name, mode, state and since when, records received, last reason in full."""
    text = Text()
    if not statuses:
        text.append("No sources.", style="dim")
    for number, (label, status) in enumerate(statuses.items()):
        if number:
            text.append("\n\n")
        text.append(visible(label), style="bold")
        text.append(f"\n  mode     {status.mode}\n  state    ")
        text.append(status.state, style=STATE_STYLES.get(status.state, ""))
        began = since.get(label)
        if began is not None:
            text.append(f" since {clock_text(began)} ({age_text(now - began)} ago)", style="dim")
        text.append(f"\n  records  {counts.get(label, 0)}")
        problem = problems.get(label)
        if problem is not None:
            reason, when = problem
            text.append(f"\n  last reason ({clock_text(when)}, {age_text(now - when)} ago)\n    ", style="dim")
            text.append(visible(reason, keep_newlines=True).replace("\n", "\n    "))
    return text


class SourcesScreen(ModalScreen[None]):
    """The sources panel; `refresh_text` is called again while it is open (states change)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,S", "close", "Close")]
    DEFAULT_CSS = """
    SourcesScreen { align: center middle; }
    SourcesScreen > VerticalScroll {
        width: 110; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SourcesScreen .title { text-style: bold; }
    """

    def __init__(self, text: Callable[[], Text]) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Sources (escape closes)", classes="title", markup=False)
            yield Static(self.text(), id="sources-text", markup=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_text)

    def refresh_text(self) -> None:
        self.query_one("#sources-text", Static).update(self.text())

    def action_close(self) -> None:
        self.dismiss(None)
