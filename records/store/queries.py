"""Questions the record screen asks of a `RecordStore`: the stages of a record's flow in order, the
newest record of a function with an outcome, and the record to diff a record against."""

from __future__ import annotations

import math
from dataclasses import dataclass

from records.decode import Decoded, decode
from records.models import split_function_arn
from records.rules import nested_records
from records.store.record_store import RecordStore
from records.store.rows import Flow, Outcome, Stage
from records.store.views import RecordFilter, RecordView

__all__ = [
    "NESTED_SCAN_RECORDS",
    "Comparison",
    "comparison",
    "flow_stages",
    "nested_success",
    "newest",
    "ordered_stages",
]

NESTED_SCAN_RECORDS = 50
"""How many of the newest successful records `nested_success` looks inside."""


def ordered_stages(flow: Flow) -> list[Stage]:
    """The flow's stages by time, upstream before downstream when times are equal (Lambda writes
    a failure record and the next function's record in the same millisecond)."""
    parent_of = {stage.request_id: stage.parent_request_id for stage in flow.stages if stage.request_id}

    def depth(stage: Stage) -> int:
        count, parent = 0, stage.parent_request_id
        while parent is not None and parent in parent_of and count < 64:
            count += 1
            parent = parent_of[parent]
        return count

    return sorted(
        flow.stages, key=lambda stage: (math.inf if stage.timestamp is None else stage.timestamp, depth(stage))
    )


def flow_stages(store: RecordStore, index: int) -> tuple[list[Stage], int | None]:
    """The stages of the flow row `index` belongs to, in order, and the position of that row's own
    stage among them (None when the row is in no flow, or its stage is not one of them)."""
    flow_id = store.flow_of(index)
    flow = store.flow(flow_id) if flow_id is not None else None
    if flow is None:
        return [], None
    stages = ordered_stages(flow)
    current = next((number for number, stage in enumerate(stages) if stage.row == index), None)
    return stages, current


def newest(store: RecordStore, function: str, outcome: Outcome) -> int | None:
    """The index of the newest row of `function` with `outcome`, or None."""
    view = RecordView(store, RecordFilter(outcome=outcome, function=function))
    view.update()
    return view[0] if len(view) else None


def nested_success(store: RecordStore, function: str, limit: int = NESTED_SCAN_RECORDS) -> Decoded | None:
    """A successful record of `function` nested in one of the `limit` newest successful records
    (a function whose own records never reach a watched destination is still seen this way)."""
    view = RecordView(store, RecordFilter(outcome="succeeded"))
    view.update()
    for position in range(min(limit, len(view))):
        record = store.load(view[position]).record
        for nested in nested_records(record.request_payload if record is not None else None):
            arn = nested["requestContext"].get("functionArn")
            if isinstance(arn, str) and split_function_arn(arn)[0] == function:
                found = decode(nested, correlator=store.correlator)[0]
                if found.record is not None and found.record.succeeded:
                    return found
    return None


@dataclass(frozen=True, slots=True)
class Comparison:
    """The record to diff against (None: nothing fits) and what it is, in words."""

    decoded: Decoded | None
    name: str = ""


def comparison(store: RecordStore, index: int, marked: int | None = None) -> Comparison:
    """What row `index` is diffed against: the marked row (when it is another one), else for a
    failure the newest success of the same function (its own record, or one nested in a downstream
    record), else for a success the newest failure of the same function."""
    if marked is not None and marked != index:
        return Comparison(store.load(marked), "marked record")
    row = store.row(index)
    if not row.ok or row.function_name is None:
        return Comparison(None)
    if not row.succeeded:
        other = newest(store, row.function_name, "succeeded")
        if other is not None:
            return Comparison(store.load(other), "newest success of this function")
        nested = nested_success(store, row.function_name)
        if nested is not None:
            return Comparison(nested, "newest success of this function (nested in a downstream record)")
        return Comparison(None)
    other = newest(store, row.function_name, "failed")
    return Comparison(store.load(other), "newest failure of this function") if other is not None else Comparison(None)
