"""The Textual app. `create_app(config)` is the one factory the commands and the tests share.

Data flows one way: source workers post `SourceEvents` batches -> the app adds them to the store ->
a timer (every ~100 ms, only when something changed) extends the views and repaints the screen.
Test orders and re-drives go through the injected `invoker` in a worker that only posts messages.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator, Decoded, decode
from records.facts import GC_THRESHOLDS, MessageFacts
from records.lines import iso_timestamp, visible
from records.message import Message
from records.models import split_function_arn
from records.setups import ConfigError, Setup, save_setup
from records.sources.base import FactsBatch, Source, SourceStatus
from records.store.record_store import RecordStore
from records.store.rows import Outcome
from records.store.views import FilterError, RecordFilter
from tui.heap import limit_heap_fragmentation
from tui.messages import OrderFailed, OrderSent, SourceEvents
from tui.render import Stage
from tui.safety import AccountIdentified, WriteGuard
from tui.screens.detail import DetailScreen, RecordDetail
from tui.screens.dialogs import ConfirmDialog, FilterDialog, OrderDialog, OrderRequest, SaveDialog, SaveRequest
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.save_setup import SaveSetupDialog, SetupSaved
from tui.views import CHEAP_SCAN_ROWS, JMESPATH_SCAN_ROWS, FlowsSource, RecordsSource, ordered_stages
from tui.workers import Pump, Ticket

Invoker = Callable[[str, Any], Awaitable[str]]
"""`await invoker(function, payload)` sends an asynchronous invoke and returns the request id."""

RATE_WINDOW = 30  # seconds shown in the records/s sparkline
INGEST_SLICE = 0.012  # seconds of storing before other messages (keys) get their turn
INGEST_CHUNK = 100
STATS_SECONDS = 0.5
# While records pour in (more than BUSY_ROWS since the last refresh: a replay, a burst), the
# tables take in new rows this often instead of every tick: each refresh and repaint costs
# milliseconds that storing could use. Keys still repaint at once; a trickle shows at once.
BUSY_REFRESH_SECONDS = 0.5
BUSY_ROWS = 200


@dataclass
class AppConfig:
    sources: Sequence[Source] = ()
    invoker: Invoker | None = None
    order_function: str | None = None  # where `o` sends test orders
    order_generator: Callable[[], Any] | None = None  # a fresh test-order payload
    presets: Mapping[str, Any] = field(default_factory=dict)  # name -> payload (or a callable making one)
    clock: Callable[[], float] | None = None  # seconds since the epoch; fixed in snapshot tests
    title: str = "lambdest-tui"
    subtitle: str = ""
    save_path: str = "lambdest-session.jsonl"
    refresh_seconds: float = 0.1
    correlator: Correlator = DEFAULT_CORRELATOR
    quit_on_sigterm: bool = False  # the commands set it: SIGTERM quits like `q` (sources closed, taps removed)
    # Safety (tui.safety): read-only hides and refuses o/O/r; `confirm_account` (the AWS options of a
    # real account, None for the sandbox) makes the first o/O/r toward each function ask first.
    read_only: bool = False
    confirm_account: AwsOptions | None = None
    setup: Setup | None = None  # what is watched, for the palette's "Save the sources as a setup"


class LambdestApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "lambdest-tui"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("space,p", "toggle_pause", "Pause/follow"),
        Binding("f", "filter", "Filter"),
        Binding("x", "failures", "Failures", show=False),
        Binding("m", "mark", "Mark", show=False),
        Binding("o", "test_order", "Test order"),
        Binding("O", "order_dialog", "Edit order"),
        Binding("r", "redrive", "Re-drive"),
        Binding("s", "save", "Save"),
    ]

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.title = config.title
        self.sub_title = config.subtitle
        self.store = RecordStore(correlator=config.correlator, clock=self.now)
        self.records = RecordsSource(self.store)
        self.flows = FlowsSource(self.store, self.now)
        self.statuses: dict[str, SourceStatus] = {}
        for source in config.sources:
            self.statuses[source.label] = SourceStatus(source.label, source.mode, "connecting")
        self.paused = False
        self.marked: int | None = None
        self._dirty = True
        self._last_second = -1
        self._refreshed_at = 0.0
        self._rows_at_refresh = 0
        self.batches_handled = 0
        self.refreshes = 0
        self.ingest_failures = 0
        self._backlog: deque[tuple[list[Message | SourceStatus | MessageFacts], object | None]] = deque()
        self._draining = False
        self._stats_at = -math.inf
        self._stats_stale = True
        self.totals = (0, 0, 0, 0)  # records, succeeded, failed, undecodable (shown in the status bar)
        self.pumps: list[Pump] = []
        self._gc_thresholds = gc.get_threshold()
        self.guard = WriteGuard(config.read_only, config.confirm_account)

    @property
    def order_function(self) -> str | None:
        if self.config.invoker is None or self.config.read_only:  # read-only: no "o: test order" hint
            return None
        return self.config.order_function

    def now(self) -> float:
        return self.config.clock() if self.config.clock is not None else time.time()

    # ----- life cycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._gc_thresholds = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
        limit_heap_fragmentation()  # process-wide and for good (harmless for whatever runs next)
        self.push_screen(MainScreen())
        self.guard.start(self)  # the account id, for the first confirmation (real accounts only)
        self.set_interval(self.config.refresh_seconds, self._tick)
        if self.config.quit_on_sigterm:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: self.call_later(self.action_quit))
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

    # ----- safety (tui.safety) ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.guard.allows(action)  # read-only: o/O/r hidden from the footer

    def on_key(self, event: events.Key) -> None:
        self.guard.on_key(self, event)  # read-only: o/O/r refused with a message

    def on_account_identified(self, message: AccountIdentified) -> None:
        self.guard.identified(self, message)

    def on_unmount(self) -> None:
        gc.set_threshold(*self._gc_thresholds)

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

    @property
    def main(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    # ----- ingestion ----------------------------------------------------------------------------

    def on_source_events(self, message: SourceEvents) -> None:
        """Queue the batch; `_drain` stores it in slices so key presses get in between."""
        events: list[Message | SourceStatus | MessageFacts] = []
        for event in message.events:
            if isinstance(event, FactsBatch):  # stored message by message, like the others
                events.extend(event.messages)
            else:
                events.append(event)
        self._backlog.append((events, message.ticket))
        self.batches_handled += 1
        if not self._draining:
            self._draining = True
            self.call_later(self._drain)

    def _drain(self) -> None:
        """Store queued events for at most `INGEST_SLICE` seconds, then let other messages (keys,
        repaints) through and go on."""
        deadline = time.perf_counter() + INGEST_SLICE
        while self._backlog and time.perf_counter() < deadline:
            events, ticket = self._backlog[0]
            take = events[:INGEST_CHUNK]
            del events[:INGEST_CHUNK]
            self.ingest(take)
            if not events:
                self._backlog.popleft()
                if isinstance(ticket, Ticket):
                    ticket.release()
        if self._backlog:
            self.call_later(self._drain)
        else:
            self._draining = False

    def ingest(self, events: Iterable[Message | SourceStatus | MessageFacts]) -> None:
        store = self.store
        facts: list[MessageFacts] = []  # a run of messages decoded elsewhere, stored together
        for event in events:
            if isinstance(event, tuple):
                facts.append(event)
                continue
            if facts:
                self._ingest_facts(facts)
                facts = []
            if isinstance(event, SourceStatus):
                self.statuses[event.source] = event
                if event.state == "failed":
                    self.notify(
                        f"{visible(event.source)}: {visible(event.reason or 'failed')}", severity="error", markup=False
                    )
            else:
                try:
                    store.ingest(event)
                except Exception as exc:  # a store bug must not take the session down: say so, go on
                    self._ingest_failed(event.source, exc)
        if facts:
            self._ingest_facts(facts)
        self._dirty = True

    def _ingest_facts(self, facts: list[MessageFacts]) -> None:
        pending = iter(facts)
        while True:
            try:
                self.store.ingest_facts_many(pending)
                return
            except Exception as exc:  # as in ingest(); the messages after this one are still stored
                self._ingest_failed("a replayed file", exc)

    def _ingest_failed(self, source: str, exc: Exception) -> None:
        self.ingest_failures += 1
        if self.ingest_failures <= 3:
            self.notify(
                f"Could not store a message from {visible(source)}: {type(exc).__name__}: {visible(str(exc))}",
                severity="error",
                markup=False,
            )

    def rates(self) -> list[float]:
        return [float(count) for count in self.store.rate(RATE_WINDOW, self.now())]

    def _tick(self) -> None:
        second = int(self.now())
        if not self._dirty and second == self._last_second:
            return
        if (
            self._rows_at_refresh  # the first rows show at once
            and len(self.store) - self._rows_at_refresh > BUSY_ROWS
            and time.monotonic() - self._refreshed_at < BUSY_REFRESH_SECONDS
        ):
            return  # records pour in: repaint the tables less often, store more
        self._last_second = second
        self.refresh_views()

    def refresh_views(self, *, totals_now: bool = False) -> None:
        """Take in what arrived and repaint (coalesced: at most once a tick). `totals_now` updates
        the totals even when they were computed less than `STATS_SECONDS` ago."""
        self.refreshes += 1
        self._refreshed_at = time.monotonic()
        self._rows_at_refresh = len(self.store)
        changes = self.store.drain_changes()
        new_records = self.records.catch_up()
        new_flows = self.flows.catch_up(changes.flows)
        self._dirty = not self.records.complete
        # Stats cost O(functions + sources): at most twice a second; a skipped update keeps the
        # app dirty so the next tick brings the totals up to date.
        now = time.monotonic()
        self._stats_stale = self._stats_stale or bool(changes)
        if totals_now or (self._stats_stale and now - self._stats_at >= STATS_SECONDS):
            stats = self.store.stats()
            self.totals = (stats.records, stats.succeeded, stats.failed, stats.undecodable)
            self._stats_at = now
            self._stats_stale = False
        elif self._stats_stale:
            self._dirty = True
        main = self.main
        if main is not None and main.is_mounted:
            main.refresh_data(new_records, new_flows)

    # ----- filter and pause ---------------------------------------------------------------------

    @property
    def record_filter(self) -> RecordFilter:
        return self.records.spec or RecordFilter()

    def apply_filter(self, spec: RecordFilter) -> None:
        try:
            records = RecordsSource(self.store, spec)
        except FilterError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        records.pause(self.paused)
        records.view.scan(JMESPATH_SCAN_ROWS if records.slow else CHEAP_SCAN_ROWS)
        records.shown = len(records.view)
        self.records = records
        self._dirty = True
        main = self.main
        if main is not None:
            main.reset_records()
        self.refresh_views()

    def action_filter(self) -> None:
        def done(spec: RecordFilter | None) -> None:
            if spec is not None:
                self.apply_filter(spec)

        self.push_screen(FilterDialog(self.record_filter, self.store.functions()), done)

    def action_failures(self) -> None:
        current = self.record_filter
        self.apply_filter(RecordFilter() if current.outcome == "failed" else replace(current, outcome="failed"))

    def action_clear_filter(self) -> None:
        self.apply_filter(RecordFilter())

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.records.pause(self.paused)
        self.flows.pause(self.paused)
        self._dirty = True
        self.refresh_views()

    # ----- drill-down ---------------------------------------------------------------------------

    def open_record(self, index: int) -> None:
        store = self.store
        row = store.row(index)
        decoded = store.load(index)
        raw = store.raw(index) or decoded.raw
        label = f"{row.file}@{row.offset}" if row.file else None
        stages, current = self._stages(index)
        compare, compare_name = self._comparison(index)
        received = iso_timestamp(datetime.fromtimestamp(row.received, UTC)) if not math.isnan(row.received) else None
        detail = RecordDetail(index, decoded, raw, row.source, received, label, stages, current, compare, compare_name)
        self.push_screen(DetailScreen(detail))

    def _stages(self, index: int) -> tuple[tuple[Stage, ...], int | None]:
        flow_id = self.store.flow_of(index)
        flow = self.store.flow(flow_id) if flow_id is not None else None
        if flow is None:
            return (), None
        stages: list[Stage] = []
        current = None
        for number, stage in enumerate(ordered_stages(flow)):
            if stage.row == index:
                current = number
            when = datetime.fromtimestamp(stage.timestamp, UTC) if stage.timestamp is not None else None
            note = stage.error_type
            if stage.nested:
                note = f"{note}  (seen nested)" if note else "(seen nested in a downstream record)"
            stages.append(
                Stage(
                    when,
                    stage.function_name,
                    stage.condition or stage.state,
                    stage.attempts or 0,
                    stage.state != "failed",
                    note,
                )
            )
        return tuple(stages), current

    def _comparison(self, index: int) -> tuple[Decoded | None, str]:
        """What the Diff tab compares with: the marked record, else for a failure the newest success
        of the same function (its own record, or one nested in a downstream record), else for a
        success the newest failure of the same function."""
        store = self.store
        if self.marked is not None and self.marked != index:
            return store.load(self.marked), "marked record"
        row = store.row(index)
        if not row.ok or row.function_name is None:
            return None, ""
        if not row.succeeded:
            other = self._newest(row.function_name, "succeeded")
            if other is not None:
                return store.load(other), "newest success of this function"
            nested = self._nested_success(row.function_name)
            if nested is not None:
                return nested, "newest success of this function (nested in a downstream record)"
            return None, ""
        other = self._newest(row.function_name, "failed")
        return (store.load(other), "newest failure of this function") if other is not None else (None, "")

    def _newest(self, function: str, outcome: Outcome) -> int | None:
        view = self.store.view(RecordFilter(outcome=outcome, function=function))
        return view[0] if len(view) else None

    def _nested_success(self, function_name: str, limit: int = 50) -> Decoded | None:
        """A successful record of `function_name` nested in one of the newest successful records."""
        view = self.store.view(RecordFilter(outcome="succeeded"))
        for position in range(min(limit, len(view))):
            record = self.store.load(view[position]).record
            payload = record.request_payload if record is not None else None
            for _ in range(16):
                if not isinstance(payload, dict) or not isinstance(payload.get("requestContext"), dict):
                    break
                arn = payload["requestContext"].get("functionArn")
                if isinstance(arn, str) and split_function_arn(arn)[0] == function_name:
                    found = decode(payload, correlator=self.config.correlator)[0]
                    if found.record is not None and found.record.succeeded:
                        return found
                payload = payload.get("requestPayload")
        return None

    def action_mark(self) -> None:
        main = self.main
        index = main.current_record() if main is not None else None
        if index is None:
            return
        self.marked = index
        self.notify("Marked this record: open another one and press d to diff them.")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

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
        function = self.order_function
        if function is None:
            self.notify("No order function: test orders work with `demo` or `watch --function NAME`.")
            return
        self.guard.confirm(self, function, lambda: self.send(function, self._new_order()))

    def action_order_dialog(self) -> None:
        if self.guard.refuse(self, "test orders"):
            return
        function = self.order_function
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
        key = _order_id(payload)
        self.store.expect(key, function)
        self._dirty = True
        self.refresh_views()
        self._invoke(function, payload, key)

    @work(group="invoke", exit_on_error=False)
    async def _invoke(self, function: str, payload: Any, key: str | None) -> None:
        invoker = self.config.invoker
        assert invoker is not None
        try:
            request_id = await invoker(function, payload)
        except Exception as exc:
            self.post_message(OrderFailed(function, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(OrderSent(function, key, request_id))

    def on_order_sent(self, message: OrderSent) -> None:
        self.store.expect(message.correlation_id, message.function, message.request_id)
        self._dirty = True
        what = message.correlation_id or "the event"
        self.notify(f"Sent {visible(what)} to {visible(message.function)}", timeout=2, markup=False)

    def on_order_failed(self, message: OrderFailed) -> None:
        self.notify(
            f"Could not invoke {visible(message.function)}: {visible(message.reason)}", severity="error", markup=False
        )

    def _redrive_target(self) -> int | None:
        screen = self.screen
        if isinstance(screen, DetailScreen):
            return screen.detail.index
        main = self.main
        return main.current_record() if main is not None else None

    def action_redrive(self) -> None:
        if self.guard.refuse(self, "re-drive"):
            return
        if self.config.invoker is None:
            self.notify("Re-drive needs AWS access: use `demo` or `watch`.", severity="warning")
            return
        index = self._redrive_target()
        if index is None:
            return
        row = self.store.row(index)
        if not row.ok or row.succeeded:
            self.notify("Only a failed record can be re-driven.", severity="warning")
            return
        decoded = self.store.load(index)
        record = decoded.record
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
        def done(request: SaveRequest | None) -> None:
            if request is not None:
                self.save(request)

        self.push_screen(SaveDialog(self.config.save_path, self.records.spec is not None), done)

    def save(self, request: SaveRequest) -> None:
        records = self.records
        rows: Sequence[int] | None = None
        if request.filtered and records.spec is not None:
            view = records.view
            rows = list(view.indices())
        self._save(request.path, rows)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, path: str, rows: Sequence[int] | None) -> int:
        return self.store.save(Path(path), rows)

    @on(Worker.StateChanged)
    def worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.state == WorkerState.ERROR:
            error = worker.error
            self.notify(f"{worker.name or worker.group}: {visible(repr(error))}", severity="error", markup=False)
        elif worker.state == WorkerState.SUCCESS and worker.group == "save":
            self.notify(f"Saved {worker.result} message{'s' if worker.result != 1 else ''}.")

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
        yield from super().get_system_commands(screen)
        yield SystemCommand("Pause or follow", "Freeze the tables; count new records", self.action_toggle_pause)
        yield SystemCommand("Filter records", "By outcome, function, source, text, JMESPath", self.action_filter)
        yield SystemCommand("Show only failures", "Toggle the failed-records filter", self.action_failures)
        yield SystemCommand("Clear the filter", "Show every record", self.action_clear_filter)
        yield SystemCommand("Send a test order", "Asynchronous invoke of the order function", self.action_test_order)
        yield SystemCommand("Edit and send a test order", "Pick a preset or edit the payload", self.action_order_dialog)
        yield SystemCommand(
            "Re-drive the selected failure", "Invoke its function with its request", self.action_redrive
        )
        yield SystemCommand("Save the session", "As JSON Lines that replay identically", self.action_save)
        if self.config.setup is not None:
            yield SystemCommand(
                "Save the sources as a setup", "Start them later with watch @NAME", self.action_save_setup
            )
        yield SystemCommand("Mark the selected record", "To diff another record against it", self.action_mark)
        yield SystemCommand("Help", "Every key", self.action_help)


def _order_id(payload: Any) -> str | None:
    if isinstance(payload, dict):
        for key in ("orderId", "order_id"):
            value = payload.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return None


def _dt(timestamp: float) -> datetime | None:
    return None if math.isnan(timestamp) else datetime.fromtimestamp(timestamp, UTC)


def create_app(config: AppConfig | None = None) -> LambdestApp:
    """The app, for the CLI and the tests alike."""
    return LambdestApp(config or AppConfig())
