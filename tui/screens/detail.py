"""The drill-down screen of one record: payload trees, error, contexts, envelope, raw, timeline, diff.

The screen is handed everything it shows (a `RecordDetail`); it does no I/O of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from records.decode import Decoded
from records.lines import visible
from tui.render import (
    Stage,
    contexts,
    diff_text,
    envelope_meta,
    error_text,
    outcome,
    pretty_raw,
    record_document,
    summary,
    timeline_text,
)
from tui.widgets.payload_tree import PayloadTree

RAW_SHOWN = 200_000  # characters of raw text drawn (a record can be 1 MB)


@dataclass(frozen=True, slots=True)
class RecordDetail:
    """Everything the detail screen shows about one record."""

    index: int
    decoded: Decoded
    raw: str
    source: str | None
    received: str | None
    input_label: str | None
    stages: tuple[Stage, ...] = ()
    stage_index: int | None = None
    compare: Decoded | None = None  # the record to diff against
    compare_name: str = ""


class DetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("c", "copy_value", "Copy value"),
        Binding("y", "copy_path", "Copy path"),
        Binding("a", "copy_record", "Copy record"),
        Binding("d", "show_tab('diff')", "Diff"),
        Binding("t", "show_tab('timeline')", "Timeline"),
        Binding("e", "show_tab('error')", "Error"),
        Binding("1", "show_tab('request')", "Request", show=False),
        Binding("2", "show_tab('response')", "Response", show=False),
        Binding("3", "show_tab('error')", "Error", show=False),
        Binding("4", "show_tab('contexts')", "Contexts", show=False),
        Binding("5", "show_tab('envelope')", "Envelope", show=False),
        Binding("6", "show_tab('raw')", "Raw", show=False),
        Binding("7", "show_tab('timeline')", "Timeline", show=False),
        Binding("8", "show_tab('diff')", "Diff", show=False),
    ]

    DEFAULT_CSS = """
    DetailScreen #detail-head { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    DetailScreen TabbedContent { height: 1fr; }
    DetailScreen TabPane { padding: 0; }
    DetailScreen .text-pane { padding: 0 1; }
    """

    def __init__(self, detail: RecordDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        detail = self.detail
        decoded = detail.decoded
        record = decoded.record
        yield Static(summary(decoded, detail.source, detail.received), id="detail-head", markup=False)
        initial = "request" if record is not None else "raw"
        if record is not None and not record.succeeded:
            initial = "error"
        with TabbedContent(initial=initial):
            with TabPane("1 Request", id="request"):
                yield PayloadTree("requestPayload", record.request_payload if record else None, "requestPayload")
            with TabPane("2 Response", id="response"):
                yield PayloadTree("responsePayload", record.response_payload if record else None, "responsePayload")
            with TabPane("3 Error", id="error"), VerticalScroll(classes="text-pane"):
                yield Static(error_text(decoded), markup=False)
            with TabPane("4 Contexts", id="contexts"):
                yield PayloadTree("record", contexts(decoded), "")
            with TabPane("5 Envelope", id="envelope"):
                yield PayloadTree(
                    "transport", envelope_meta(decoded, detail.source, detail.received, detail.input_label), ""
                )
            with TabPane("6 Raw", id="raw"), VerticalScroll(classes="text-pane"):
                yield Static(self._raw(), id="raw-text", markup=False)
            with TabPane("7 Timeline", id="timeline"), VerticalScroll(classes="text-pane"):
                yield Static(timeline_text(detail.stages, detail.stage_index), markup=False)
            with TabPane("8 Diff", id="diff"), VerticalScroll(classes="text-pane"):
                yield Static(self._diff(), markup=False)
        yield Footer()

    def _raw(self) -> Text:
        raw = pretty_raw(self.detail.raw)
        text = Text(visible(raw[:RAW_SHOWN], keep_newlines=True))
        if len(raw) > RAW_SHOWN:
            text.append(f"\n… {len(raw) - RAW_SHOWN:,} more characters: `a` copies the whole record", style="dim")
        return text

    def _diff(self) -> Text:
        detail = self.detail
        if detail.compare is None:
            return Text(
                "Nothing to compare with: mark a record with `m` on the main screen, or open a failure "
                "after a success of the same function has arrived.",
                style="dim",
            )
        header = Text.assemble(
            "Diff of ", outcome(detail.compare), f" {detail.compare_name}  →  ", outcome(detail.decoded)
        )
        header.append(" this record\n\n")
        return header + diff_text(detail.compare, detail.decoded, detail.compare_name, "this record")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(TabbedContent).active_pane
        if pane is not None:
            trees = pane.query(PayloadTree)
            if trees:
                trees.first().focus()

    def _tree(self) -> PayloadTree | None:
        pane = self.query_one(TabbedContent).active_pane
        if pane is None:
            return None
        trees = pane.query(PayloadTree)
        return trees.first() if trees else None

    def action_copy_value(self) -> None:
        tree = self._tree()
        data = tree.selected_data() if tree is not None else None
        if data is None:
            self.notify("Select a value in a payload tree first.", severity="warning")
            return
        self.app.copy_to_clipboard(data.value_text())
        self.notify(f"Copied the value of {visible(data.path) or 'the root'}", markup=False)

    def action_copy_path(self) -> None:
        tree = self._tree()
        data = tree.selected_data() if tree is not None else None
        if data is None:
            self.notify("Select a value in a payload tree first.", severity="warning")
            return
        self.app.copy_to_clipboard(data.path)
        self.notify(f"Copied the path {visible(data.path)}", markup=False)

    def action_copy_record(self) -> None:
        document: Any = record_document(self.detail.decoded)
        text = document if isinstance(document, str) else json.dumps(document, indent=2, ensure_ascii=False)
        self.app.copy_to_clipboard(text)
        self.notify("Copied the whole record")
