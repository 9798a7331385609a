"""The main screen: flows list, records table, detail area, status bar.

The app hands it the `Session` (store, views, statuses) and binds two reactives to it: `paused`
and `refreshed` (set by the app's coalescing timer, never per record). The screen lays the session
out, turns highlights into the detail area's text and posts what the user asks for up to the app
(`OpenRecord`, `FilterChanged`, `MarkRecord`, `RedriveRecord`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from records.lines import visible
from records.store.rows import no_records_sentence, status_at
from tui.messages import FilterChanged, MarkRecord, OpenRecord, RedriveRecord
from tui.render import summary
from tui.session import Refreshed, Session
from tui.views import FLOW_COLUMNS, RECORD_COLUMNS, clock_text, describe, stages_text
from tui.widgets.status import StatusBar
from tui.widgets.virtual_table import VirtualTable

__all__ = ["SEARCH_PAUSE", "SHORT_LINES", "MainScreen"]

SEARCH_PAUSE = 0.15
"""Seconds after the last key typed in `/` before the filter applies."""

SHORT_LINES = 30
"""On a terminal shorter than this the detail area is smaller (the tables keep their rows)."""


class MainScreen(Screen[None]):
    """The flows list, the records table, the detail area and the status bar of a `Session`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next table", show=False, tooltip="move between the flows and the records"),
        Binding("shift+tab", "app.focus_previous", "Previous table", show=False, tooltip="the other way round"),
        Binding("slash", "quick_filter", "Search", show=False, tooltip="quick free-text filter"),
        Binding("escape", "close_search", "Close search", show=False),
        Binding("m", "mark", "Mark", show=False, tooltip="mark this record to diff others against"),
        Binding("r", "redrive", "Re-drive", tooltip="re-drive the failed record's request payload (asks first)"),
    ]

    paused: var[bool] = var(False)
    """Bound to the app's: the banner says paused or following."""
    refreshed: var[Refreshed] = var(Refreshed(0))
    """Bound to the app's: new rows arrived in the session's views."""

    DEFAULT_CSS = """
    MainScreen #banner { height: 1; background: $boost; padding: 0 1; }
    MainScreen #banner.paused { background: $warning 30%; }
    MainScreen #search { display: none; height: 3; }
    MainScreen #search.visible { display: block; }
    MainScreen #flows { height: 1fr; min-height: 5; border-top: solid $primary-muted; }
    MainScreen #records { height: 2fr; min-height: 6; border-top: solid $primary-muted; }
    MainScreen #flows:focus, MainScreen #records:focus { border-top: thick $primary; }
    MainScreen #detail { height: 8; border-top: solid $primary-muted; padding: 0 1; }
    MainScreen #detail:focus { border-top: thick $primary; background: $boost; }
    MainScreen.short #detail { height: 4; }
    MainScreen.short #flows { min-height: 4; }
    MainScreen.short #records { min-height: 5; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.selected_record: int | None = None  # store index shown in the detail area
        self.selected_flow: int | None = None
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="banner", markup=False)
        yield Input(placeholder="free text: function, condition, error, order, request id (enter)", id="search")
        with Vertical():
            flows = VirtualTable(FLOW_COLUMNS, id="flows")
            flows.border_title = "Flows"
            yield flows
            records = VirtualTable(RECORD_COLUMNS, id="records")
            records.border_title = "Records"
            yield records
            with VerticalScroll(id="detail"):
                yield Static(Text("Select a record or a flow.", style="dim"), id="detail-text", markup=False)
        yield StatusBar()
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < SHORT_LINES, "short")  # a smaller detail area

    def on_mount(self) -> None:
        self.set_class(self.size.height < SHORT_LINES, "short")
        self.flows_table.set_source(self.session.flows)
        self.records_table.set_source(self.session.records)
        self.records_table.focus()
        self.refresh_data(0, 0)

    @property
    def flows_table(self) -> VirtualTable:
        return self.query_one("#flows", VirtualTable)

    @property
    def records_table(self) -> VirtualTable:
        return self.query_one("#records", VirtualTable)

    # ----- updates from the app -----------------------------------------------------------------

    def watch_refreshed(self, refreshed: Refreshed) -> None:
        if self.is_mounted:
            self.refresh_data(refreshed.new_records, refreshed.new_flows)

    def watch_paused(self) -> None:
        if self.is_mounted:
            self.show_banner()

    def refresh_data(self, new_records: int, new_flows: int) -> None:
        session = self.session
        if not self.query("#records"):
            return  # the app is closing: the widgets are already gone
        records = self.records_table
        if records.source is not session.records:  # the filter changed: the new view from the top
            records.set_source(session.records)
            if self.selected_record is not None and not self.shows(self.selected_record):
                self.selected_record = None  # the detail area never shows a record the filter hides
                self.query_one("#detail-text", Static).update(Text("Select a record or a flow.", style="dim"))
        elif new_records or len(session.records) != records.row_count:
            records.rows_added(new_records)
        if self.flows_table.source is not session.flows:  # the filter changed: its flows from the top
            self.flows_table.set_source(session.flows)
        elif new_flows or len(session.flows) != self.flows_table.row_count:
            self.flows_table.rows_added(new_flows)
        self.flows_table.refresh()  # stages, status and ages change in place
        self.show_banner()
        self.query_one(StatusBar).show(session.statuses, session.totals, session.rates())

    def show_banner(self) -> None:
        session = self.session
        records = session.records
        total = len(session.store)
        banner = self.query_one("#banner", Static)
        text = Text()
        if self.paused:
            text.append("⏸ PAUSED", style="bold")
            text.append(f"  {records.pending} new record{'s' if records.pending != 1 else ''}")
            text.append("  (space to follow)", style="dim")
        else:
            text.append("▶ following", style="bold")
        text.append(f"   showing {len(records)} of {total}")
        if records.spec is not None:
            text.append("   filter: ", style="dim")
            text.append(visible(describe(records.spec)))
            if not records.complete:
                text.append(f"  (scanning {records.view.scanned}/{total})", style="dim")
            error = records.view.runtime_error
            if error:
                text.append(f"  {visible(error)}", style="red")
        if session.held:
            waiting = ", ".join(visible(label) for label in session.not_live())
            count = len(session.held)
            text.append(
                f"   holding {count} test order{'s' if count != 1 else ''} until {waiting} live", style="yellow"
            )
        elif session.order_function:
            text.append(f"   o: test order to {visible(session.order_function)}", style="dim")
        banner.update(text, layout=False)  # one line, full width: its size never changes
        banner.set_class(self.paused, "paused")

    # ----- selection -> detail area -----------------------------------------------------------

    @on(VirtualTable.Highlighted, "#records")
    def record_highlighted(self, event: VirtualTable.Highlighted) -> None:
        records = self.session.records
        if event.index >= len(records):
            return
        index = records.index_at(event.index)
        if index == self.selected_record and self.records_table.has_focus:
            return
        self.selected_record = index
        self.show_record(index)

    def show_record(self, index: int) -> None:
        store = self.session.store
        row = store.row(index)
        received = clock_text(row.received)
        self.query_one("#detail-text", Static).update(
            summary(store.load(index), row.source, received, row.function_name)
        )

    @on(VirtualTable.Highlighted, "#flows")
    def flow_highlighted(self, event: VirtualTable.Highlighted) -> None:
        flows = self.session.flows
        if event.index >= len(flows):
            return
        flow_id = flows.flow_id_at(event.index)
        self.selected_flow = flow_id
        if self.flows_table.has_focus:
            self.show_flow(flow_id)

    def shows(self, index: int) -> bool:
        """Whether the records table's filter lets this record be seen."""
        return self.session.records.view.position_of(index) is not None

    def latest_shown(self, rows: tuple[int, ...]) -> int | None:
        """The newest of these records that the filter lets be seen."""
        return next((index for index in reversed(rows) if self.shows(index)), None)

    def show_flow(self, flow_id: int) -> None:
        flow = self.session.store.flow(flow_id)
        text = Text()
        if flow is None:
            self.query_one("#detail-text", Static).update(text)
            return
        text.append(f"order {visible(flow.correlation_id or '?')}", style="bold")
        status = status_at(flow, self.session.now())
        style = {"completed": "green", "failed": "red", "invoke failed": "red", "rolled back": "yellow"}.get(
            status, "dim"
        )
        text.append(f"  {status}", style=style)
        text.append(f"  {len(flow.rows)} record{'s' if len(flow.rows) != 1 else ''}")
        if self.session.records.spec is not None:
            matching = sum(1 for index in flow.rows if self.shows(index))
            text.append(f" ({matching} match the filter)", style="dim")
        text.append("\n")
        text.append(visible(stages_text(flow)))
        for stage in flow.stages:
            if stage.reason:
                text.append(f"\ninvoke of {visible(stage.function_name)} failed: ", style="red")
                text.append(visible(stage.reason))
        if status == "no records":
            waited = self.session.now() - flow.first_seen
            text.append("\n" + visible(no_records_sentence(flow, list(self.session.statuses), waited)), style="yellow")
        text.append("\n\nenter: open the flow's latest record shown and its timeline", style="dim")
        self.query_one("#detail-text", Static).update(text)

    @on(VirtualTable.Selected, "#records")
    def record_selected(self, event: VirtualTable.Selected) -> None:
        records = self.session.records
        if event.index < len(records):
            self.post_message(OpenRecord(records.index_at(event.index)))

    @on(VirtualTable.Selected, "#flows")
    def flow_selected(self, event: VirtualTable.Selected) -> None:
        flows = self.session.flows
        if event.index >= len(flows):
            return
        flow = self.session.store.flow(flows.flow_id_at(event.index))
        latest = self.latest_shown(flow.rows) if flow is not None else None
        if latest is not None:
            self.post_message(OpenRecord(latest))
        else:
            self.notify("No record of this flow has arrived yet.")

    def on_descendant_focus(self) -> None:
        if self.flows_table.has_focus and self.selected_flow is not None:
            self.show_flow(self.selected_flow)
        elif self.records_table.has_focus and self.selected_record is not None:
            self.show_record(self.selected_record)

    def current_record(self) -> int | None:
        """The record under the cursor (in the flows list: the flow's latest record)."""
        if self.flows_table.has_focus and self.selected_flow is not None:
            flow = self.session.store.flow(self.selected_flow)
            return self.latest_shown(flow.rows) if flow is not None else None
        records = self.session.records
        row = self.records_table.cursor
        return records.index_at(row) if row < len(records) else None

    # ----- quick search -------------------------------------------------------------------------

    def action_quick_filter(self) -> None:
        search = self.query_one("#search", Input)
        search.value = self.session.record_filter.text or ""
        search.add_class("visible")
        search.focus()

    def action_close_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_class("visible"):
            search.remove_class("visible")
            self.records_table.focus()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        """`/` filters as you type (after a short pause in typing, so a fast typist waits for nothing)."""
        if self._search_timer is not None:
            self._search_timer.stop()
        if not event.input.has_class("visible"):
            return  # not opened with `/` (a key typed before the screen was up)
        value = event.value.strip() or None
        if value == self.session.record_filter.text:
            return
        spec = replace(self.session.record_filter, text=value)
        self._search_timer = self.set_timer(SEARCH_PAUSE, lambda: self.post_message(FilterChanged(spec)))

    @on(Input.Submitted, "#search")
    def search_submitted(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self.action_close_search()
        self.post_message(FilterChanged(replace(self.session.record_filter, text=event.value.strip() or None)))

    # ----- asking the app -----------------------------------------------------------------------

    def action_mark(self) -> None:
        index = self.current_record()
        if index is not None:
            self.post_message(MarkRecord(index))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only mode: `r` is hidden from the footer (the app refuses it too, `tui.safety`)."""
        return not (action == "redrive" and self.session.read_only)

    def action_redrive(self) -> None:
        index = self.current_record()
        if index is not None:
            self.post_message(RedriveRecord(index))
