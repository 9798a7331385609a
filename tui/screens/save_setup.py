"""The palette's "Save the sources as a setup": a dialog asking for the name, and the message the
saving worker posts. The app saves in a thread worker (`records.setups.save_setup`: atomic, 0600).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from records.lines import visible
from records.setups import NAME_PATTERN, Setup, config_path
from tui.screens.dialogs import DIALOG_CSS


class SetupSaved(Message):
    """The setup was written (`error` None) or could not be (`error`: a sentence naming the file)."""

    def __init__(self, name: str, error: str | None, path: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.error = error
        self.path = path


def describe(setup: Setup) -> str:
    parts = [*setup.functions]
    parts += [f"queue:{name}" for name in setup.queues] + [f"topic:{name}" for name in setup.topics]
    parts += [f"bus:{name}" for name in setup.buses]
    return ", ".join(parts) or "no sources"


class SaveSetupDialog(ModalScreen[str | None]):
    """Ask for the new setup's name; returns it (letters, digits, - and _) or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="SaveSetupDialog")

    def __init__(self, setup: Setup) -> None:
        super().__init__()
        self.setup = setup

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Save these sources as a setup", classes="title")
            yield Static(Text(visible(describe(self.setup))))
            yield Static(Text(f"in {config_path()}; start it later with lambdest-tui watch @NAME"))
            yield Label("Name")
            yield Input(placeholder="e.g. checkout", id="setup-name")
            yield Static("", classes="error", id="setup-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", variant="primary", id="save")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        name = self.query_one("#setup-name", Input).value.strip().removeprefix("@")
        if not NAME_PATTERN.match(name):
            self.query_one("#setup-error", Static).update("A name holds only letters, digits, - and _.")
            return
        self.dismiss(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
