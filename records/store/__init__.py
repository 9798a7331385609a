"""The record store: compact rows, flows, stats, views and filters, re-reading. See `RecordStore`."""

from records.store.record_store import RecordStore
from records.store.rows import Changes, Flow, FlowView, FunctionStats, RowSummary, Stage, Stats
from records.store.views import FilterError, RecordFilter, RecordView

__all__ = [
    "Changes",
    "FilterError",
    "Flow",
    "FlowView",
    "FunctionStats",
    "RecordFilter",
    "RecordStore",
    "RecordView",
    "RowSummary",
    "Stage",
    "Stats",
]
