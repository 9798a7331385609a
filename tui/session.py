"""What the app and its screens share, with no UI in it: the store, the two tables' views, the
sources' states, pause, the marked record and the pacing of ingestion and refreshes.

The app creates one `Session` and hands it down to the main screen; the screen reads it and posts
messages up. Nothing here imports Textual or Rich, so it is tested (and timed) without a terminal.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from records.decode import DEFAULT_CORRELATOR, Correlator
from records.facts import MessageFacts
from records.lines import visible
from records.message import Message
from records.sources.base import FactsBatch, Source, SourceEvent, SourceStatus
from records.store.record_store import RecordStore
from records.store.views import RecordFilter
from tui.messages import Releasable
from tui.views import CHEAP_SCAN_ROWS, JMESPATH_SCAN_ROWS, FlowsSource, RecordsSource

__all__ = [
    "BUSY_REFRESH_SECONDS",
    "BUSY_ROWS",
    "INGEST_CHUNK",
    "INGEST_SLICE",
    "RATE_WINDOW",
    "STATS_SECONDS",
    "Refreshed",
    "Session",
]

RATE_WINDOW = 30
"""Seconds shown in the records/s sparkline."""
INGEST_SLICE = 0.012
"""Seconds of storing before other messages (keys) get their turn."""
INGEST_CHUNK = 100
"""Events stored between two looks at the clock."""
STATS_SECONDS = 0.5
"""The totals are computed at most this often (they cost O(functions + sources))."""
BUSY_REFRESH_SECONDS = 0.5
"""While records pour in (more than `BUSY_ROWS` since the last refresh: a replay, a burst), the
tables take in new rows this often instead of every tick: each refresh and repaint costs
milliseconds that storing could use. Keys still repaint at once; a trickle shows at once."""
BUSY_ROWS = 200

Event = Message | SourceStatus | MessageFacts


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What one refresh took in: `new_records` and `new_flows` appeared on top of the tables
    (`serial` numbers the refreshes, so each one is a new value for a reactive)."""

    serial: int
    new_records: int = 0
    new_flows: int = 0


class Session:
    """The state of one run of the UI. `report(text)` is called with a sentence for the user when a
    source fails or a message cannot be stored (the app shows it as an error notification)."""

    def __init__(
        self,
        sources: Sequence[Source] = (),
        *,
        correlator: Correlator = DEFAULT_CORRELATOR,
        clock: Callable[[], float] | None = None,
        order_function: str | None = None,
        read_only: bool = False,
        report: Callable[[str], object] = lambda text: None,
    ) -> None:
        self.clock = clock
        self.report = report
        self.order_function = order_function  # where `o` sends test orders (None: nowhere)
        self.read_only = read_only  # no test orders, no re-drive (tui.safety refuses them)
        self.store = RecordStore(correlator=correlator, clock=self.now)
        self.records = RecordsSource(self.store)
        self.flows = FlowsSource(self.store, self.now)
        self.statuses: dict[str, SourceStatus] = {
            source.label: SourceStatus(source.label, source.mode, "connecting") for source in sources
        }
        started = self.now()
        self.since: dict[str, float] = dict.fromkeys(self.statuses, started)  # when each state began
        self.problems: dict[str, tuple[str, float]] = {}  # each source's last reason, and when
        # test orders held until the sources are live (a tap that is not yet subscribed would let
        # their records pass by): (function, payload, order id)
        self.held: list[tuple[str, object, str | None]] = []
        self.paused = False
        self.marked: int | None = None  # the store index `m` marked, to diff other records against
        # records, succeeded, failed invocations (records + seen only nested), undecodable, of those failed
        # the ones seen only nested (shown in the status bar; `x` lists as many)
        self.totals = (0, 0, 0, 0, 0)
        self.batches_handled = 0
        self.refreshes = 0
        self.ingest_failures = 0
        self.dirty = True
        self._backlog: deque[tuple[list[Event], Releasable | None]] = deque()
        self._draining = False
        self._last_second = -1
        self._refreshed_at = 0.0
        self._rows_at_refresh = 0
        self._stats_at = -math.inf
        self._stats_stale = True

    def now(self) -> float:
        """Seconds since the epoch (the fixed clock of a snapshot test, else the real one)."""
        return self.clock() if self.clock is not None else time.time()

    # ----- ingestion ----------------------------------------------------------------------------

    def queue(self, events: Iterable[SourceEvent], ticket: Releasable | None = None) -> bool:
        """Queue a batch from the sources; True when the caller must start calling `drain`."""
        flat: list[Event] = []
        for event in events:
            if isinstance(event, FactsBatch):  # stored message by message, like the others
                flat.extend(event.messages)
            else:
                flat.append(event)
        self._backlog.append((flat, ticket))
        self.batches_handled += 1
        if self._draining:
            return False
        self._draining = True
        return True

    def drain(self) -> bool:
        """Store queued events for at most `INGEST_SLICE` seconds; True when some are left (the
        caller lets other messages, keys and repaints, through and calls again)."""
        deadline = time.perf_counter() + INGEST_SLICE
        while self._backlog and time.perf_counter() < deadline:
            events, ticket = self._backlog[0]
            take = events[:INGEST_CHUNK]
            del events[:INGEST_CHUNK]
            self.ingest(take)
            if not events:
                self._backlog.popleft()
                if ticket is not None:
                    ticket.release()
        self._draining = bool(self._backlog)
        return self._draining

    def ingest(self, events: Iterable[Event]) -> None:
        """Store messages, pre-decoded facts and status changes, in order."""
        facts: list[MessageFacts] = []  # a run of messages decoded elsewhere, stored together
        for event in events:
            if isinstance(event, tuple):
                facts.append(event)
                continue
            if facts:
                self._ingest_facts(facts)
                facts = []
            if isinstance(event, SourceStatus):
                self.note_status(event)
                if event.state == "failed":
                    self.report(f"{visible(event.source)}: {visible(event.reason or 'failed')}")
            else:
                try:
                    self.store.ingest(event)
                except Exception as exc:  # a store bug must not take the session down: say so, go on
                    self._ingest_failed(event.source, exc)
        if facts:
            self._ingest_facts(facts)
        self.dirty = True

    def note_status(self, status: SourceStatus) -> None:
        """A source's new state: since when it holds, and its last reason (kept in full after the
        state changes back, for the sources panel)."""
        previous = self.statuses.get(status.source)
        now = self.now()
        if previous is None or previous.state != status.state:
            self.since[status.source] = now
        if status.reason:
            self.problems[status.source] = (status.reason, now)
        self.statuses[status.source] = status

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
            self.report(f"Could not store a message from {visible(source)}: {type(exc).__name__}: {visible(str(exc))}")

    def expect(self, correlation_id: str | None, function: str, request_id: str | None = None) -> None:
        """A test order was sent (or acknowledged): its flow shows as awaiting records."""
        self.store.expect(correlation_id, function, request_id)
        self.dirty = True

    def mark(self, index: int) -> None:
        """Mark a record to diff others against (the records table shows it marked)."""
        self.marked = index
        self.records.marked = index
        self.dirty = True

    def invoke_failed(self, correlation_id: str | None, function: str, reason: str) -> None:
        """A test order's invoke was refused: its flow says "invoke failed" and why."""
        self.store.invoke_failed(correlation_id, function, reason)
        self.dirty = True

    def not_live(self) -> list[str]:
        """Sources still connecting (or reconnecting): the records of a test order sent now could
        pass them by. Failed and finished sources are not waited for."""
        return [label for label, status in self.statuses.items() if status.state in ("connecting", "reconnecting")]

    def release_held(self) -> list[tuple[str, object, str | None]]:
        """The held test orders, once every source is live (then no longer held)."""
        if not self.held or self.not_live():
            return []
        held, self.held = self.held, []
        self.dirty = True
        return held

    # ----- refreshes ----------------------------------------------------------------------------

    def due(self) -> bool:
        """Whether a refresh tick should take in new rows now: something changed or a second
        passed (ages), and records are not pouring in faster than `BUSY_REFRESH_SECONDS`."""
        second = int(self.now())
        if not self.dirty and second == self._last_second:
            return False
        if (
            self._rows_at_refresh  # the first rows show at once
            and len(self.store) - self._rows_at_refresh > BUSY_ROWS
            and time.monotonic() - self._refreshed_at < BUSY_REFRESH_SECONDS
        ):
            return False  # records pour in: repaint the tables less often, store more
        self._last_second = second
        return True

    def refresh(self, *, totals_now: bool = False) -> Refreshed:
        """Take in what arrived; returns how many records and flows appeared on top of the tables.
        `totals_now` updates the totals even when they were computed less than `STATS_SECONDS` ago."""
        self.refreshes += 1
        self._refreshed_at = time.monotonic()
        self._rows_at_refresh = len(self.store)
        changes = self.store.drain_changes()
        new_records = self.records.catch_up()
        new_flows = self.flows.catch_up(changes.flows)
        self.dirty = not self.records.complete
        # A skipped totals update keeps the session dirty so the next tick brings them up to date.
        now = time.monotonic()
        self._stats_stale = self._stats_stale or bool(changes)
        if totals_now or (self._stats_stale and now - self._stats_at >= STATS_SECONDS):
            stats = self.store.stats()
            self.totals = (stats.records, stats.succeeded, stats.failures, stats.undecodable, stats.failed_nested)
            self._stats_at = now
            self._stats_stale = False
        elif self._stats_stale:
            self.dirty = True
        return Refreshed(self.refreshes, new_records, new_flows)

    def rates(self) -> list[float]:
        """Records stored per second over the last `RATE_WINDOW` seconds, oldest first."""
        return [float(count) for count in self.store.rate(RATE_WINDOW, self.now())]

    # ----- filter and pause ---------------------------------------------------------------------

    @property
    def record_filter(self) -> RecordFilter:
        """The records table's filter (an empty one when it shows every record)."""
        return self.records.spec or RecordFilter()

    def set_filter(self, spec: RecordFilter) -> None:
        """Show the records `spec` matches from the top; raises `records.store.views.FilterError`
        (a sentence for the user) for a bad JMESPath expression and keeps the current view."""
        records = RecordsSource(self.store, spec)
        records.pause(self.paused)
        records.view.scan(JMESPATH_SCAN_ROWS if records.slow else CHEAP_SCAN_ROWS)
        records.shown = len(records.view)
        records.marked = self.marked
        self.records = records
        flows = FlowsSource(self.store, self.now, records.view)  # the flows of the matching records
        flows.pause(self.paused)
        flows.catch_up()
        self.flows = flows
        self.dirty = True

    def set_paused(self, paused: bool) -> None:
        """Freeze both tables (new rows are counted, not shown) or follow again."""
        self.paused = paused
        self.records.pause(paused)
        self.flows.pause(paused)
        self.dirty = True

    def current_rows(self) -> Sequence[int] | None:
        """The store indices the records table's filter matches (None: no filter, every record)."""
        return list(self.records.view.indices()) if self.records.spec is not None else None
