"""The help screen (`?`): every key, grouped by where it works."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Main screen",
        (
            ("tab / shift+tab", "move between the flows list and the records table"),
            ("↑ ↓ j k, pgup pgdn", "move the cursor"),
            ("home g / end G", "newest / oldest row (the newest row follows new arrivals)"),
            ("enter, click", "drill down into the record (or the flow's latest record)"),
            ("space / p", "pause or follow (while paused, new records are counted)"),
            ("f", "filter: outcome, function, source, free text, JMESPath"),
            ("/", "quick free-text filter"),
            ("x", "show only failures / clear the filter"),
            ("m", "mark this record to diff others against"),
            ("o", "send a generated test order"),
            ("O", "edit a test order or pick a preset, then send"),
            ("r", "re-drive a failed record's request payload (asks first)"),
            ("s", "save the session or the filtered view as JSON Lines"),
            ("ctrl+p", "command palette (every action, themes)"),
            ("?", "this help"),
            ("q / ctrl+q", "quit"),
        ),
    ),
    (
        "Record screen",
        (
            ("1-8", "request, response, error, contexts, envelope, raw, timeline, diff"),
            ("← → (on the tabs)", "previous / next tab"),
            ("enter / space", "expand or collapse a JSON node"),
            ("c", "copy the selected value"),
            ("y", "copy the selected value's path"),
            ("a", "copy the whole record"),
            ("e / t / d", "error / timeline / diff tab"),
            ("r", "re-drive this record (asks first)"),
            ("escape / q", "back"),
        ),
    ),
)


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for number, (title, keys) in enumerate(KEYS):
        if number:
            table.add_row("", "")
        table.add_row(Text(title, style="bold underline"), "")
        for key, what in keys:
            table.add_row(Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 86; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("lambdest-tui keys", style="bold"))
            yield Static(help_table())
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
