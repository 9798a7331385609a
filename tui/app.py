"""The Textual app: wiring. `create_app(config)` is the one factory the commands and the tests share.

Data flows one way: source workers post `SourceEvents` batches -> the session stores them -> a
timer (every ~100 ms, only when something changed) extends the views and sets the `refreshed`
reactive, bound to the main screen -> the screen repaints. The screen posts what the user asks for
(`OpenRecord`, `FilterChanged`, `MarkRecord`, `RedriveRecord`) back up. Test orders and re-drives
go through the injected `invoker` in a worker that only posts messages.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from records.doctor.health import Health
from records.facts import DEAD_LETTERED
from records.lines import iso_timestamp, visible
from records.session_file import new_session_path
from records.setups import ConfigError, Setup, save_setup
from records.store.conditions import ConditionCounts
from records.store.queries import comparison, flow_stages
from records.store.views import FilterError, RecordFilter
from tui.config import AppConfig, Invoker
from tui.health import HealthPoller
from tui.messages import (
    FilterChanged,
    HealthRead,
    MarkRecord,
    OpenRecord,
    OrderFailed,
    OrderSent,
    RedriveRecord,
    SourceEvents,
)
from tui.render import Stage, order_id, stage_note
from tui.safety import AccountIdentified, WriteGuard
from tui.screens.detail import DetailScreen, RecordDetail
from tui.screens.dialogs import ConfirmDialog, FilterDialog, OrderDialog, OrderRequest, SaveDialog, SaveRequest
from tui.screens.health import HealthScreen, loss_badge
from tui.screens.help import HelpScreen, help_sections
from tui.screens.main import MainScreen
from tui.screens.save_setup import SaveSetupDialog, SetupSaved
from tui.screens.sources import SourcesScreen, sources_panel_text
from tui.session import Refreshed, Session
from tui.widgets.status import StatusBar
from tui.workers import Pump

__all__ = ["AppConfig", "Invoker", "LambdestApp", "create_app"]


class LambdestApp(App[None]):
    """The sources' workers, the session, the screens and the actions, wired together."""

    CSS_PATH = "app.tcss"
    TITLE = "lambdest-tui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="quit (the sources are closed, temporary taps removed)"),
        Binding("question_mark", "help", "Help", tooltip="every key (this help)"),
        Binding(
            "space,p", "toggle_pause", "Pause/follow", tooltip="pause or follow (while paused, new records are counted)"
        ),
        Binding("f", "filter", "Filter", tooltip="filter: outcome, function, source, free text, JMESPath"),
        Binding("x", "failures", "Show only failures", show=False, tooltip="show only failures / clear the filter"),
        Binding("X", "clear_filter", "Clear the filter", show=False, tooltip="clear the filter: every record"),
        Binding("o", "test_order", "Test order", tooltip="send a generated test order"),
        Binding("O", "order_dialog", "Edit order", tooltip="edit a test order or pick a preset, then send"),
        Binding("r", "redrive", "Re-drive", tooltip="(record screen) re-drive this record (asks first)"),
        Binding("s", "save", "Save", tooltip="save the session or the filtered view as JSON Lines"),
        Binding("h", "health", "Health", tooltip="health: CloudWatch metrics and the doctor's findings"),
        Binding("S", "sources", "Sources", show=False, tooltip="sources: state, mode, records, last reason in full"),
        Binding(
            "ctrl+p", "command_palette", "palette", show=False, priority=True, tooltip="command palette (every action)"
        ),
    ]
    """The keys of the main and the record screen; the help screen and the palette are made from them."""

    paused: var[bool] = var(False)
    """Both tables frozen (new records counted); bound to the main screen's."""
    refreshed: var[Refreshed] = var(Refreshed(0))
    """The last refresh of the views; bound to the main screen's."""

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.title = config.title
        self.sub_title = config.subtitle
        # read-only: no order function, so no "o: test order" hint either
        order_function = config.order_function if config.invoker is not None and not config.read_only else None
        self.session = Session(
            config.sources,
            correlator=config.correlator,
            clock=config.clock,
            order_function=order_function,
            read_only=config.read_only,
            report=lambda text: self.notify(text, severity="error", markup=False),
        )
        for queue, function in config.dead_letter_queues.items():
            self.session.store.dead_letter_queue(queue, function)
        self.pumps: list[Pump] = []
        self.guard = WriteGuard(config.read_only, config.confirm_account)
        self.health: Health | None = None  # the health poller's latest reading
        self.conditions = ConditionCounts(self.session.store)
        self.poller: HealthPoller | None = None
        if config.watched_functions and config.aws is not None:
            self.poller = HealthPoller(config.watched_functions, config.aws, self.post_message, config.health_seconds)

    # ----- life cycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.session).data_bind(LambdestApp.paused, LambdestApp.refreshed))
        self.guard.start(self)  # the account id, for the first confirmation (real accounts only)
        self.set_interval(self.config.refresh_seconds, self._tick)
        for source in self.config.sources:
            pump = Pump(source, self.post_message)
            self.pumps.append(pump)
            self.run_worker(
                pump.run,  # type: ignore[arg-type]  # an async function in a thread runs in its own loop
                thread=True,
                group="sources",
                exit_on_error=False,
                name=source.label,
            )
        if self.poller is not None:
            self.run_worker(self.poller.run(), group="health", exit_on_error=False, name="health")

    # ----- safety (tui.safety) ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.guard.allows(action)  # read-only: o/O/r hidden from the footer

    def on_key(self, event: events.Key) -> None:
        self.guard.on_key(self, event)  # read-only: o/O/r refused with a message

    def on_account_identified(self, message: AccountIdentified) -> None:
        self.guard.identified(self, message)

    async def stop_sources(self, grace: float = 10.0) -> None:
        """Cancel the source workers and wait until each source is closed (taps removed)."""
        for worker in self.workers:
            if worker.group == "sources":
                worker.cancel()
        for pump in self.pumps:
            if pump.started:
                await asyncio.to_thread(pump.finished.wait, grace)

    async def action_quit(self) -> None:
        self.notify("Closing the sources…", timeout=10)
        await self.stop_sources()
        self.exit()

    def wait_sources_closed(self, timeout: float = 10.0) -> None:
        """After `run()` returned: block until every source worker has closed its source."""
        deadline = time.monotonic() + timeout
        for pump in self.pumps:
            if pump.started:
                pump.finished.wait(max(deadline - time.monotonic(), 0))

    # ----- ingestion and refreshes --------------------------------------------------------------

    def on_source_events(self, message: SourceEvents) -> None:
        """Queue the batch; `_drain` stores it in slices so key presses get in between."""
        if self.session.queue(message.events, message.ticket):
            self.call_later(self._drain)

    def _drain(self) -> None:
        if self.session.drain():
            self.call_later(self._drain)

    def _tick(self) -> None:
        for function, payload, key in self.session.release_held():
            self._invoke(function, payload, key)
        if self.session.due():
            self.refresh_views()

    def refresh_views(self, *, totals_now: bool = False) -> None:
        """Take in what arrived and repaint (coalesced: at most once a tick). `totals_now` updates
        the totals even when they were computed less than `STATS_SECONDS` ago."""
        self.refreshed = self.session.refresh(totals_now=totals_now)

    # ----- filter and pause ---------------------------------------------------------------------

    def apply_filter(self, spec: RecordFilter) -> None:
        try:
            self.session.set_filter(spec)
        except FilterError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.refresh_views()

    def on_filter_changed(self, message: FilterChanged) -> None:
        self.apply_filter(message.spec)

    def action_filter(self) -> None:
        def done(spec: RecordFilter | None) -> None:
            if spec is not None:
                self.apply_filter(spec)

        self.push_screen(FilterDialog(self.session.record_filter, self.session.store.functions()), done)

    def action_failures(self) -> None:
        current = self.session.record_filter
        self.apply_filter(RecordFilter() if current.outcome == "failed" else replace(current, outcome="failed"))

    def action_clear_filter(self) -> None:
        self.apply_filter(RecordFilter())

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        self.session.set_paused(paused)
        self.refresh_views()

    # ----- drill-down ---------------------------------------------------------------------------

    def on_open_record(self, message: OpenRecord) -> None:
        self.open_record(message.index)

    def open_record(self, index: int) -> None:
        store = self.session.store
        row = store.row(index)
        decoded = store.load(index)
        raw = store.raw(index) or decoded.raw
        label = f"{row.file}@{row.offset}" if row.file else None
        stages, current = flow_stages(store, index)
        compare = comparison(store, index, self.session.marked)
        received = iso_timestamp(datetime.fromtimestamp(row.received, UTC)) if not math.isnan(row.received) else None
        shown = tuple(
            Stage(
                datetime.fromtimestamp(stage.timestamp, UTC) if stage.timestamp is not None else None,
                stage.function_name,
                stage.condition or stage.state,
                stage.attempts or 0,
                stage.state != "failed",
                stage_note(stage.error_type, stage.nested, stage.dead_lettered and stage.condition != DEAD_LETTERED),
            )
            for stage in stages
        )
        detail = RecordDetail(index, decoded, raw, row.source, received, label, shown, current, compare.decoded)
        detail = replace(detail, compare_name=compare.name, function=row.function_name)
        self.push_screen(DetailScreen(detail))

    def on_mark_record(self, message: MarkRecord) -> None:
        self.session.mark(message.index)
        self.refresh_views()
        self.notify("Marked this record: open another one and press d to diff them.")

    def action_sources(self) -> None:
        if not isinstance(self.screen, SourcesScreen):
            session = self.session
            self.push_screen(
                SourcesScreen(
                    lambda: sources_panel_text(
                        session.statuses, session.since, session.problems, session.store.stats().sources, session.now()
                    )
                )
            )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_sections(self.BINDINGS)))

    # ----- health (tui.health, tui.screens.health) ------------------------------------------------

    def action_health(self) -> None:
        if isinstance(self.screen, HealthScreen):
            self.pop_screen()
            return
        functions = list(self.config.watched_functions) or self.session.store.functions()
        note = None
        if not self.config.watched_functions:
            note = (
                "No function watched: CloudWatch metrics and the doctor's checks come with `demo` and "
                "`watch --function NAME`."
            )
        update = self.poller.now if self.poller is not None else lambda: None
        self.push_screen(HealthScreen(functions, self.conditions.counts, self.health, update=update, note=note))

    def on_health_read(self, message: HealthRead) -> None:
        self.health = message.health
        badge = loss_badge(message.health)
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                for bar in screen.query(StatusBar):
                    bar.show_badge(badge)
            elif isinstance(screen, HealthScreen) and screen.is_mounted:
                screen.show(message.health)

    # ----- test orders and re-drive -------------------------------------------------------------

    def _new_order(self) -> Any:
        generator = self.config.order_generator
        if generator is not None:
            return generator()
        for preset in self.config.presets.values():
            return preset() if callable(preset) else preset
        return {}

    def action_test_order(self) -> None:
        if self.guard.refuse(self, "test orders"):
            return
        function = self.session.order_function
        if function is None:
            self.notify("No order function: test orders work with `demo` or `watch --function NAME`.")
            return
        self.guard.confirm(self, function, lambda: self.send(function, self._new_order()))

    def action_order_dialog(self) -> None:
        if self.guard.refuse(self, "test orders"):
            return
        function = self.session.order_function
        if function is None:
            self.notify("No order function: test orders work with `demo` or `watch --function NAME`.")
            return
        presets = {name: (value() if callable(value) else value) for name, value in self.config.presets.items()}
        if not presets:
            presets = {"generated": self._new_order()}

        def done(request: OrderRequest | None) -> None:
            if request is not None:
                self.guard.confirm(self, request.function, lambda: self.send(request.function, request.payload))

        self.push_screen(OrderDialog(function, presets), done)

    def send(self, function: str, payload: Any) -> None:
        """Show the order's flow at once; invoke now, or once every source is live (held)."""
        key = order_id(payload)
        self.session.expect(key, function)
        if self.session.not_live():
            self.session.held.append((function, payload, key))
        else:
            self._invoke(function, payload, key)
        self.refresh_views()

    @work(group="invoke", exit_on_error=False)
    async def _invoke(self, function: str, payload: Any, key: str | None) -> None:
        invoker = self.config.invoker
        assert invoker is not None
        try:
            request_id = await invoker(function, payload)
        except Exception as exc:
            self.post_message(OrderFailed(function, f"{type(exc).__name__}: {exc}", key))
            return
        self.post_message(OrderSent(function, key, request_id))

    def on_order_sent(self, message: OrderSent) -> None:
        self.session.expect(message.correlation_id, message.function, message.request_id)
        what = message.correlation_id or "the event"
        self.notify(f"Sent {visible(what)} to {visible(message.function)}", timeout=2, markup=False)

    def on_order_failed(self, message: OrderFailed) -> None:
        self.session.invoke_failed(message.correlation_id, message.function, message.reason)
        self.notify(
            f"Could not invoke {visible(message.function)}: {visible(message.reason)}", severity="error", markup=False
        )

    def action_redrive(self) -> None:
        """`r` on the record screen (the main screen has its own, posting `RedriveRecord`)."""
        if self.guard.refuse(self, "re-drive"):
            return
        screen = self.screen
        if isinstance(screen, DetailScreen):
            self.redrive(screen.detail.index)

    def on_redrive_record(self, message: RedriveRecord) -> None:
        if not self.guard.refuse(self, "re-drive"):
            self.redrive(message.index)

    def redrive(self, index: int) -> None:
        """Ask, then send the request payload of the failed record `index` to its function again."""
        if self.config.invoker is None:
            self.notify("Re-drive needs AWS access: use `demo` or `watch`.", severity="warning")
            return
        row = self.session.store.row(index)
        if not row.ok or row.succeeded:
            self.notify("Only a failed record can be re-driven.", severity="warning")
            return
        record = self.session.store.load(index).record
        if record is None or record.kind != "async-invocation":
            self.notify("Only an async-invocation record can be re-driven.", severity="warning")
            return
        function, payload = record.function_name, record.request_payload
        preview = json.dumps(payload, ensure_ascii=False)
        preview = preview if len(preview) <= 300 else preview[:300] + "…"
        question = Text.assemble(
            ("Re-drive this request payload to ", ""),
            (visible(function), "bold"),
            (" (asynchronous invoke)?\n\n", ""),
            (visible(preview), "dim"),
        )

        def done(answer: bool | None) -> None:
            if answer:
                self._invoke(function, payload, None)

        self.guard.confirm(self, function, lambda: self.push_screen(ConfirmDialog(question, "Re-drive"), done))

    # ----- save ---------------------------------------------------------------------------------

    def action_save(self) -> None:
        """Ask where (default: a timestamped file in the session directory), ask before
        overwriting, save in a worker and say the absolute path."""

        def done(request: SaveRequest | None) -> None:
            if request is None:
                return
            target = Path(request.path).expanduser().absolute()
            rows = self.session.current_rows() if request.filtered else None
            if not target.exists():
                self._save(target, rows)
                return

            def overwrite(yes: bool | None) -> None:
                if yes:
                    self._save(target, rows)

            question = Text.assemble((visible(str(target)), "bold"), " exists. Overwrite it?")
            self.push_screen(ConfirmDialog(question, "Overwrite"), overwrite)

        default = Path(self.config.save_path) if self.config.save_path else new_session_path("saved")
        self.push_screen(SaveDialog(str(default.expanduser().absolute()), self.session.records.spec is not None), done)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, target: Path, rows: Sequence[int] | None) -> tuple[int, Path]:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.session.store.save(target, rows), target

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.state == WorkerState.ERROR:
            error = worker.error
            self.notify(f"{worker.name or worker.group}: {visible(repr(error))}", severity="error", markup=False)
        elif worker.state == WorkerState.SUCCESS and worker.group == "save":
            count, target = cast("tuple[int, Path]", worker.result)
            plural = "s" if count != 1 else ""
            self.notify(f"Saved {count} message{plural} to {visible(str(target))}", markup=False, timeout=8)

    # ----- saved setups (records.setups) ---------------------------------------------------------

    def action_save_setup(self) -> None:
        setup = self.config.setup
        if setup is None:
            self.notify("Only `watch` sources can be saved as a setup.", severity="warning")
            return

        def done(name: str | None) -> None:
            if name is not None:
                self._save_setup(name, setup)

        self.push_screen(SaveSetupDialog(setup), done)

    @work(thread=True, group="setup", exit_on_error=False)
    def _save_setup(self, name: str, setup: Setup) -> None:
        try:
            path = save_setup(name, setup)
        except ConfigError as exc:
            self.post_message(SetupSaved(name, str(exc)))
            return
        self.post_message(SetupSaved(name, None, str(path)))

    def on_setup_saved(self, message: SetupSaved) -> None:
        if message.error is not None:
            self.notify(visible(message.error), severity="error", markup=False)
        else:
            self.notify(f"Saved setup @{message.name} in {visible(message.path or '')}", markup=False)

    # ----- command palette ----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands, then one per binding in force on `screen` that has a tooltip: its
        description as the title, its tooltip as the help."""
        yield from super().get_system_commands(screen)
        seen = {"quit", "command_palette"}  # Textual's own list has these
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.tooltip and binding.action not in seen:
                seen.add(binding.action)
                run = functools.partial(self.run_action, binding.action, active.node)
                yield SystemCommand(binding.description, binding.tooltip, run)
        if self.config.setup is not None:
            yield SystemCommand(
                "Save the sources as a setup", "Start them later with watch @NAME", self.action_save_setup
            )


def create_app(config: AppConfig | None = None) -> LambdestApp:
    """The app, for the CLI and the tests alike."""
    return LambdestApp(config or AppConfig())
