"""Modal dialogs: test order, confirmation, save, filter. Each returns its answer through `dismiss`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from records.lines import visible
from records.store.views import FilterError, RecordFilter, compile_jmespath

__all__ = ["ConfirmDialog", "FilterDialog", "OrderDialog", "OrderRequest", "SaveDialog", "SaveRequest"]

# A dialog fits or scrolls: at most the screen's height, its content in a VerticalScroll (focus
# scrolls the focused field into view, so it is never on a hidden one). Short terminals (under 30
# lines: the `short` class, set on resize) drop the spacing.
DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > DialogBox {{
    width: 90; max-width: 100%; height: auto; max-height: 100%;
    border: thick $primary; background: $surface; padding: 1 2;
}}
{name}.short > DialogBox {{ padding: 0 1; }}
{name}.short Label {{ margin-top: 0; }}
{name}.short .title {{ margin-bottom: 0; }}
{name}.short .buttons {{ margin-top: 0; }}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .buttons {{ height: auto; margin-top: 1; align-horizontal: right; }}
{name} .buttons Button {{ margin-left: 1; }}
{name} .error {{ color: $text-error; height: auto; }}
{name} Label {{ margin-top: 1; }}
"""


class DialogBox(VerticalScroll, can_focus=False):
    """A dialog's content: scrolls when the terminal is too short, and is no stop of its own in
    the tab order (focus goes to the fields, and a focused field is scrolled into view)."""


SHORT_LINES = 30
"""Under this many lines a dialog is compact (less spacing, a smaller payload editor)."""


def fit_short(screen: ModalScreen[Any], height: int) -> None:
    """Mark a dialog compact on a short terminal."""
    screen.set_class(height < SHORT_LINES, "short")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A test order to send: the function and the payload."""

    function: str
    payload: Any


class OrderDialog(ModalScreen[OrderRequest | None]):
    """Edit a test order's payload or pick a preset, then send it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Send"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="OrderDialog") + (
        "OrderDialog TextArea { height: 14; } OrderDialog.short TextArea { height: 7; }"
    )

    def __init__(self, function: str, presets: Mapping[str, Any], initial: str | None = None) -> None:
        super().__init__()
        self.function = function
        self.presets = dict(presets)
        self.initial = initial if initial in self.presets else next(iter(self.presets), None)

    def on_resize(self, event: events.Resize) -> None:
        fit_short(self, event.size.height)

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Static(Text(f"Send a test order to {visible(self.function)}"), classes="title")
            yield Label("Preset")
            yield Select(
                [(name, name) for name in self.presets],
                value=self.initial if self.initial is not None else Select.NULL,
                allow_blank=self.initial is None,
                id="preset",
            )
            yield Label("Payload (JSON; sent with InvocationType Event)")
            yield TextArea(self._payload_text(self.initial), language="json", id="payload", soft_wrap=True)
            yield Static("", classes="error", id="order-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Send (ctrl+s)", variant="primary", id="send")

    def _payload_text(self, preset: str | None) -> str:
        if preset is None:
            return "{}"
        return json.dumps(self.presets[preset], indent=2, ensure_ascii=False)

    @on(Select.Changed, "#preset")
    def preset_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#payload", TextArea).text = self._payload_text(event.value)

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        text = self.query_one("#payload", TextArea).text
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            self.query_one("#order-error", Static).update(
                Text(f"The payload is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")
            )
            return
        self.dismiss(OrderRequest(self.function, payload))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; dismissed with True or False."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, question: Text, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def on_resize(self, event: events.Resize) -> None:
        fit_short(self, event.size.height)

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Static(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("No (n)", id="no")
                yield Button(f"{self.yes} (y)", variant="warning", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


@dataclass(frozen=True, slots=True)
class SaveRequest:
    """Where to save, and whether only the filtered view."""

    path: str
    filtered: bool


class SaveDialog(ModalScreen[SaveRequest | None]):
    """Asks where to save the session (and whether only the filtered view)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="SaveDialog")

    def __init__(self, default_path: str, filter_active: bool) -> None:
        super().__init__()
        self.default_path = default_path
        self.filter_active = filter_active

    def on_resize(self, event: events.Resize) -> None:
        fit_short(self, event.size.height)

    def compose(self) -> ComposeResult:
        with DialogBox():
            yield Static("Save as JSON Lines (replay it with `lambdest-tui replay FILE`)", classes="title")
            yield Label("File")
            yield Input(self.default_path, id="save-path")
            yield Checkbox("Only the records the filter shows", self.filter_active, id="save-filtered")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", variant="primary", id="save")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        path = self.query_one("#save-path", Input).value.strip()
        if path:
            self.dismiss(SaveRequest(path, self.query_one("#save-filtered", Checkbox).value))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


OUTCOMES = ("all", "succeeded", "failed", "undecodable")


class FilterDialog(ModalScreen[RecordFilter | None]):
    """The filter form: outcome, function, source, free text, JMESPath."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="FilterDialog")

    def __init__(self, current: RecordFilter, functions: list[str]) -> None:
        super().__init__()
        self.current = current
        self.functions = functions

    def on_resize(self, event: events.Resize) -> None:
        fit_short(self, event.size.height)

    def compose(self) -> ComposeResult:
        current = self.current
        with DialogBox():
            yield Static("Filter the records", classes="title")
            yield Label("Outcome")
            yield Select(
                [(name, name) for name in OUTCOMES], value=current.outcome or "all", allow_blank=False, id="outcome"
            )
            yield Label("Function (exact name)")
            options = [(visible(name), name) for name in self.functions]
            yield Select(options, value=current.function or Select.NULL, id="function")
            yield Label("Source contains")
            yield Input(current.source or "", id="source")
            yield Label("Free text (names, conditions, errors, ids and the raw message)")
            yield Input(current.text or "", id="text")
            yield Label("JMESPath over the record, e.g. requestPayload.items[?qty > `5`]")
            yield Input(current.jmespath or "", id="jmespath")
            yield Static("", classes="error", id="filter-error")
            with Horizontal(classes="buttons"):
                yield Button("Clear", id="clear")
                yield Button("Cancel", id="cancel")
                yield Button("Apply", variant="primary", id="apply")

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def apply(self) -> None:
        expression = self.query_one("#jmespath", Input).value.strip()
        if expression:
            try:
                compile_jmespath(expression)
            except FilterError as exc:
                self.query_one("#filter-error", Static).update(Text(str(exc)))
                return
        function = self.query_one("#function", Select).value
        outcome = self.query_one("#outcome", Select).value
        self.dismiss(
            RecordFilter(
                outcome=outcome if outcome in ("succeeded", "failed", "undecodable") else None,
                function=function if isinstance(function, str) else None,
                source=self.query_one("#source", Input).value.strip() or None,
                text=self.query_one("#text", Input).value.strip() or None,
                jmespath=expression or None,
            )
        )

    @on(Button.Pressed, "#clear")
    def clear(self) -> None:
        self.dismiss(RecordFilter())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
