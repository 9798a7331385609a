"""The two tables' sources over `records.store.RecordStore`, with pause: newest first, built per line.

`RecordsSource` wraps a `records.store.RecordView`; `FlowsSource` the store's flow order. While
paused each shows the rows it had (the newest `shown` of them) and counts what arrived since.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from records.lines import iso_timestamp
from records.store.queries import ordered_stages
from records.store.record_store import RecordStore
from records.store.rows import Flow, FlowView, RowSummary, status_at
from records.store.views import RecordFilter, RecordView
from tui.widgets.virtual_table import Column

__all__ = [
    "CHEAP_SCAN_ROWS",
    "FLOW_COLUMNS",
    "FLOW_TONES",
    "JMESPATH_SCAN_ROWS",
    "MARK",
    "RECORD_COLUMNS",
    "FlowsSource",
    "RecordsSource",
    "age_text",
    "clock_text",
    "describe",
    "record_cells",
    "record_tone",
    "stages_text",
]

# Priorities on a narrow terminal: the time and the order id stay whole; the source is shortened
# in the middle (its kind and the end of its name stay); the others shrink in between.
RECORD_COLUMNS = (
    Column("time", 12, least=12),
    Column("source", 26, least=9, middle=True),
    Column("function", 18, least=10),
    Column("condition", 17, least=7),
    Column("att", 3, least=3),
    Column("error type", 20, least=8),
    Column("order", 0, least=16),
)

FLOW_COLUMNS = (
    Column("order", 22, least=16),
    Column("status", 16, least=13),
    Column("stages", 0, least=12),
    Column("recs", 4, least=4),
    Column("age", 6, least=4),
)

FLOW_TONES = {
    "completed": "ok",
    "failed": "fail",
    "rolled back": "bad",
    "awaiting records": "wait",
    "invoke failed": "fail",
    "no records": "bad",
}
JMESPATH_SCAN_ROWS = 400  # rows a JMESPath filter decodes per refresh tick
CHEAP_SCAN_ROWS = 200_000


def clock_text(timestamp: float | None) -> str:
    """The time of day of a timestamp, to the millisecond (UTC); "?" when unknown."""
    if timestamp is None or math.isnan(timestamp):
        return "?"
    return iso_timestamp(datetime.fromtimestamp(timestamp, UTC))[11:23]


def age_text(seconds: float) -> str:
    """A short age: 42s, 5m, 3h, 2d."""
    if math.isnan(seconds):
        return ""
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def describe(spec: RecordFilter | None) -> str:
    """A filter in a few words, for the banner."""
    if spec is None or spec.is_empty:
        return "none"
    parts: list[str] = []
    if spec.outcome:
        parts.append(spec.outcome)
    if spec.function:
        parts.append(f"function={spec.function}")
    if spec.source:
        parts.append(f"source~{spec.source}")
    if spec.text:
        parts.append(f"text~{spec.text!r}")
    if spec.jmespath:
        parts.append(f"jmespath {spec.jmespath!r}")
    return " ".join(parts)


def record_cells(row: RowSummary) -> tuple[str, ...]:
    """The records table's cells of one row."""
    when = clock_text(row.timestamp if row.timestamp is not None else row.received)
    if not row.ok:
        return (when, row.source, "-", "undecodable", "", row.error_message or "", "")
    error = row.error_type or ""
    if row.nested_failures:  # listed by `x` for a failure seen only nested in it: say which
        error = ", ".join(f"{stage.error_type or stage.function_name} (nested)" for stage in row.nested_failures)
    return (
        when,
        row.source,
        row.title,
        row.condition or "",
        "" if row.attempts is None else str(row.attempts),
        error,
        row.correlation_id or "",
    )


def record_tone(row: RowSummary) -> str:
    """The colour class of a row: ok, fail or bad (undecodable)."""
    if not row.ok:
        return "bad"
    return "ok" if row.succeeded and not row.nested_failures else "fail"


def stages_text(flow: Flow) -> str:
    """A flow's stages on one line: order✓ → update-inventory✗ x3 → rollback-order✓."""
    parts = []
    for stage in ordered_stages(flow):
        mark = {"succeeded": "✓", "failed": "✗", "invoke failed": "✗"}.get(stage.state, "…")
        attempts = f" x{stage.attempts}" if stage.attempts not in (None, 1) else ""
        dead = " dead-lettered" if stage.dead_lettered else ""
        parts.append(f"{stage.function_name}{mark}{attempts}{dead}")
    return " → ".join(parts) if parts else "…"


MARK = "●"
"""Before the time of the record marked with `m` (the one others are diffed against)."""


class RecordsSource:
    """The records table: a filtered view of the store, newest first, with pause. `marked` is the
    store index of the marked record (shown with `MARK`)."""

    def __init__(self, store: RecordStore, spec: RecordFilter | None = None) -> None:
        self.store = store
        self.marked: int | None = None
        self.spec = spec if spec is not None and not spec.is_empty else None
        # Raises records.store.FilterError for a bad JMESPath expression.
        self.view = RecordView(store, self.spec, scan=False)
        self.shown = 0
        self.paused = False

    def __len__(self) -> int:
        return self.shown

    def index_at(self, row: int) -> int:
        return self.view[row + len(self.view) - self.shown]

    def cells(self, row: int) -> Sequence[str]:
        index = self.index_at(row)
        cells = record_cells(self.store.row(index))
        if index == self.marked:
            return (MARK + cells[0][1:], *cells[1:])
        return cells

    def tone(self, row: int) -> str:
        return record_tone(self.store.row(self.index_at(row)))

    @property
    def pending(self) -> int:
        return len(self.view) - self.shown

    @property
    def complete(self) -> bool:
        return self.view.complete

    @property
    def slow(self) -> bool:
        return self.spec is not None and bool(self.spec.jmespath)

    def catch_up(self) -> int:
        """Scan rows that arrived; returns how many rows appeared on top of the table."""
        self.view.scan(JMESPATH_SCAN_ROWS if self.slow else CHEAP_SCAN_ROWS)
        if self.paused:
            return 0
        added = len(self.view) - self.shown
        self.shown = len(self.view)
        return added

    def pause(self, paused: bool) -> None:
        self.paused = paused


class FlowsSource:
    """The flows list: one row per flow, newest first, with pause. Given a filtered records view,
    it lists only the flows with at least one record the filter matches (the same filter as the
    records table), in their order of creation."""

    def __init__(self, store: RecordStore, now: Callable[[], float], view: RecordView | None = None) -> None:
        self.store = store
        self.now = now
        self.view = view if view is not None and view.is_filtered else None
        self.shown = 0
        self.paused = False
        self._cache: dict[int, Flow | None] = {}
        self._taken = 0  # matching rows of `view` already looked at
        self._matched: set[int] = set()  # flows with a matching record
        self._order = array("i")  # those flows, oldest first

    def _flows(self) -> FlowView:
        return self.store.flows() if self.view is None else FlowView(self._order)

    def _take_matches(self, changed: frozenset[int]) -> None:
        """Take in the flows of newly matching records: O(new matches) (flow ids grow in order of
        creation, so the newest flows are appended); merged flows are followed."""
        assert self.view is not None
        indices = self.view.indices()
        flow_of = self.store.flow_of
        matched = self._matched
        new: set[int] = set()
        for position in range(self._taken, len(indices)):
            flow = flow_of(indices[position])
            if flow is not None and flow not in matched:
                new.add(flow)
        self._taken = len(indices)
        matched |= new
        if changed and not changed.isdisjoint(matched):  # merged flows: follow them
            resolve = self.store.graph.resolve
            self._matched = {live for live in map(resolve, matched) if live is not None}
            self._order = array("i", sorted(self._matched))
        elif new:
            fresh = sorted(new)
            if self._order and fresh[0] < self._order[-1]:
                self._order = array("i", sorted(matched))
            else:
                self._order.extend(fresh)

    def __len__(self) -> int:
        return min(self.shown, len(self._flows()))

    def flow_id_at(self, row: int) -> int:
        flows = self._flows()
        return flows[row + len(flows) - len(self)]

    def flow_at(self, row: int) -> Flow | None:
        flow_id = self.flow_id_at(row)
        if flow_id not in self._cache:
            self._cache[flow_id] = self.store.flow(flow_id)
        return self._cache[flow_id]

    def cells(self, row: int) -> Sequence[str]:
        flow = self.flow_at(row)
        if flow is None:
            return ("?",)
        return (
            flow.correlation_id or f"flow {flow.id}",
            status_at(flow, self.now()),
            stages_text(flow),
            str(len(flow.rows)),
            age_text(self.now() - flow.last_seen),
        )

    def tone(self, row: int) -> str:
        flow = self.flow_at(row)
        return FLOW_TONES.get(status_at(flow, self.now()), "") if flow is not None else ""

    @property
    def pending(self) -> int:
        return len(self._flows()) - len(self)

    def catch_up(self, changed: frozenset[int] = frozenset()) -> int:
        """Forget changed flows (and, filtered, take in the flows of newly matching records);
        returns how many flows appeared on top."""
        if changed:
            for flow_id in changed:
                self._cache.pop(flow_id, None)
            if len(self._cache) > 4096:
                self._cache.clear()
        if self.view is not None:
            self._take_matches(changed)
        if self.paused:
            return 0
        count = len(self._flows())
        added = max(count - self.shown, 0)
        self.shown = count
        return added

    def pause(self, paused: bool) -> None:
        self.paused = paused
