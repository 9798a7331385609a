"""The drill-down screen of one record: payload trees, error, contexts, envelope, raw, timeline, diff.

The screen is handed everything it shows (a `RecordDetail`); it does no I/O of its own. Each tab is
built when it is first shown, and a tab that cannot be built shows a sentence instead: opening a
record never raises. A payload beyond the nesting limit (records.rules.MAX_DEPTH) is marked too deep.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer, Static, TabbedContent, TabPane

from records.decode import Decoded
from records.lines import visible
from records.rules import MAX_DEPTH, TooDeep
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
TABS = (
    ("request", "1 Request"),
    ("response", "2 Response"),
    ("error", "3 Error"),
    ("contexts", "4 Contexts"),
    ("envelope", "5 Envelope"),
    ("raw", "6 Raw"),
    ("timeline", "7 Timeline"),
    ("diff", "8 Diff"),
)
log = logging.getLogger(__name__)


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
    function: str | None = None  # the row's function as the store knows it (a dead-letter message names none)


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
        self._built: set[str] = set()  # the tabs whose widgets exist

    def compose(self) -> ComposeResult:
        detail = self.detail
        decoded = detail.decoded
        record = decoded.record
        yield self._guarded("head", self._head)[0]
        initial = "request" if record is not None else "raw"
        if (record is not None and not record.succeeded) or decoded.dead_letter is not None:
            initial = "error"
        with TabbedContent(initial=initial):
            for tab, title in TABS:
                with TabPane(title, id=tab):
                    if tab == initial:  # the others are built when first shown
                        self._built.add(tab)
                        yield from self._tab(tab)
        yield Footer()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:
            self._build(event.pane.id)

    def _build(self, tab: str) -> AwaitMount | None:
        """Build a tab the first time it is shown (None: it was built already)."""
        if tab in self._built:
            return None
        self._built.add(tab)
        return self.query_one(f"#{tab}", TabPane).mount_all(self._tab(tab))

    def _tab(self, tab: str) -> list[Widget]:
        """A tab's widgets, or a sentence when this record cannot be shown that way."""
        return self._guarded(tab, self._builders[tab])

    def _guarded(self, what: str, build: Callable[[], list[Widget]]) -> list[Widget]:
        try:
            return build()
        except Exception as exc:  # a record, however odd, must never take the screen down
            log.warning("the %s of record %d cannot be shown", what, self.detail.index, exc_info=True)
            sentence = Text(
                f"This cannot be shown for this record ({type(exc).__name__}: {str(exc)[:200]}). "
                "The Raw tab has the record as it arrived.",
                style="dim",
            )
            return [Static(sentence, markup=False)]

    def _head(self) -> list[Widget]:
        detail = self.detail
        head = summary(detail.decoded, detail.source, detail.received, detail.function)
        return [Static(head, id="detail-head", markup=False)]

    @property
    def _builders(self) -> dict[str, Callable[[], list[Widget]]]:
        return {
            "request": lambda: self._payload("requestPayload"),
            "response": lambda: self._payload("responsePayload"),
            "error": lambda: self._text(error_text(self.detail.decoded)),
            "contexts": lambda: [PayloadTree("record", contexts(self.detail.decoded), "")],
            "envelope": self._envelope,
            "raw": lambda: [VerticalScroll(Static(self._raw(), id="raw-text", markup=False), classes="text-pane")],
            "timeline": lambda: self._text(timeline_text(self.detail.stages, self.detail.stage_index)),
            "diff": lambda: self._text(self._diff()),
        }

    @staticmethod
    def _text(text: Text) -> list[Widget]:
        return [VerticalScroll(Static(text, markup=False), classes="text-pane")]

    def _payload(self, name: str) -> list[Widget]:
        record = self.detail.decoded.record
        value = None
        if record is not None:
            value = record.request_payload if name == "requestPayload" else record.response_payload
        elif self.detail.decoded.dead_letter is not None and name == "requestPayload":
            value = self.detail.decoded.dead_letter.event  # the original event is the request payload
        if isinstance(value, TooDeep):
            sentence = f"The {name} is nested more than {MAX_DEPTH} levels deep: too deep to show as a tree. "
            return self._text(Text(sentence + "The Raw tab has it as it arrived.", style="dim"))
        return [PayloadTree(name, value, name)]

    def _envelope(self) -> list[Widget]:
        detail = self.detail
        return [
            PayloadTree(
                "transport", envelope_meta(detail.decoded, detail.source, detail.received, detail.input_label), ""
            )
        ]

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

    async def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        building = self._build(tab)
        if building is not None:
            await building
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
        try:
            document: Any = record_document(self.detail.decoded)
            text = document if isinstance(document, str) else json.dumps(document, indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # a record that cannot be dumped: copy it as it arrived
            self.app.copy_to_clipboard(self.detail.raw)
            self.notify("Copied the record as it arrived")
            return
        self.app.copy_to_clipboard(text)
        self.notify("Copied the whole record")
