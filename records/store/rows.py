"""The small things the record store hands out: row summaries, flow stages, flows, stats, newest-first views.

They are built on demand from the store's compact columns (records/store/columns.py, strings.py),
so holding one costs nothing per stored record; the UI builds them only for the rows on screen.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

__all__ = [
    "AWAIT_SECONDS",
    "DEAD_LETTER",
    "NONE",
    "OK",
    "OUTCOMES",
    "STREAM",
    "SUCCEEDED",
    "Changes",
    "Flow",
    "FlowStatus",
    "FlowView",
    "FunctionStats",
    "NewestFirst",
    "Outcome",
    "RowSummary",
    "Stage",
    "StageState",
    "Stats",
    "flow_status",
    "no_records_sentence",
    "status_at",
]

NONE = -1

# flag bits of a row
OK = 1
SUCCEEDED = 2
STREAM = 4
DEAD_LETTER = 8  # a dead-letter queue's message (records.models.DeadLetterMessage), not a record

Outcome = Literal["succeeded", "failed", "undecodable"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "failed", "undecodable")

FlowStatus = Literal["completed", "failed", "rolled back", "awaiting records", "invoke failed", "no records"]
StageState = Literal["succeeded", "failed", "pending", "invoke failed"]

AWAIT_SECONDS = 60.0
"""How long a sent test order's flow says "awaiting records" before it says "no records" and why."""


class NewestFirst(Sequence[int]):
    """Numbers kept oldest first and shown newest first: `view[0]` is the last one added."""

    def _oldest_first(self, position: int) -> int:
        raise NotImplementedError

    @overload
    def __getitem__(self, position: int) -> int: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[int]: ...
    def __getitem__(self, position: int | slice) -> int | Sequence[int]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        size = len(self)
        if position < 0:
            position += size
        if not 0 <= position < size:
            raise IndexError(position)
        return self._oldest_first(size - 1 - position)


class FlowView(NewestFirst):
    """Live flow ids, newest first: `view[0]` is the most recently created flow."""

    def __init__(self, order: array[int]) -> None:
        self._order = order

    def __len__(self) -> int:
        return len(self._order)

    def _oldest_first(self, position: int) -> int:
        return self._order[position]


@dataclass(frozen=True, slots=True)
class RowSummary:
    """What the store keeps of one decoded input (one row of the records table).

    Times are seconds since the epoch (UTC). For an undecodable input `ok` is False, the record
    fields are None and `error_message` holds the decoder's reason.
    """

    index: int
    received: float
    timestamp: float | None
    source: str
    ok: bool
    kind: str | None  # "async-invocation" | "stream-failure" | "dead-letter" | None (undecodable)
    function_name: str | None
    condition: str | None
    succeeded: bool
    attempts: int | None  # approximateInvokeCount
    error_type: str | None
    error_message: str | None  # short: first line, at most ERROR_MESSAGE_CHARS characters
    correlation_id: str | None
    request_id: str | None
    parent_request_id: str | None
    flow_id: int | None
    envelope: tuple[str, ...]
    file: str | None  # where the message can be re-read (None: its raw text is held in memory)
    offset: int | None
    length: int | None
    nested_failures: tuple[Stage, ...] = ()  # failed upstream invocations seen only nested in this record
    dead_letter_queue: str | None = None  # a dead-letter message: the queue or topic it came from

    @property
    def title(self) -> str:
        """What the row is of: its function, or for a dead-letter message whose function is not
        known, "dead-letter message from QUEUE"."""
        if self.function_name:
            return self.function_name
        if self.kind == "dead-letter":
            return f"dead-letter message from {self.dead_letter_queue or self.source or 'an unknown queue'}"
        return ""

    @property
    def outcome(self) -> Outcome:
        if not self.ok:
            return "undecodable"
        return "succeeded" if self.succeeded else "failed"


@dataclass(frozen=True, slots=True)
class Stage:
    """One invocation in a flow: a function's record, seen directly or only nested in a downstream one.

    `row` is the index of the row holding this invocation's own record; it is None when the
    invocation was seen only nested inside a downstream record (`nested` is True then) or not seen
    at all yet (`state` "pending": a test order that was sent and has no record yet).
    """

    function_name: str
    request_id: str | None
    parent_request_id: str | None  # the upstream invocation this one handled (Lambda destination)
    state: StageState
    condition: str | None
    attempts: int | None
    timestamp: float | None
    error_type: str | None
    row: int | None
    nested: bool
    reason: str | None = None  # why the invoke failed ("invoke failed")
    dead_lettered: bool = False  # its event reached the function's dead-letter queue (a DLQ message was seen)

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"


@dataclass(frozen=True, slots=True)
class Flow:
    """Records linked into one order's flow, stages in time order (upstream first).

    status:
      "awaiting records"  a test order was sent (`expect`) and no record of it has arrived yet
      "invoke failed"     a test order's invoke was refused (the stage's `reason` says why)
      "no records"        still awaiting records after `AWAIT_SECONDS` (`status_at`; `no_records_sentence`)
      "completed"         every stage seen succeeded (or a failure was re-driven successfully)
      "failed"            a stage failed and nothing downstream handled it
      "rolled back"       every failure was handled by a successful downstream stage that received
                          the failure record (e.g. rollback-order after update-inventory failed)
    """

    id: int
    correlation_id: str | None
    stages: tuple[Stage, ...]
    status: FlowStatus
    first_seen: float
    last_seen: float
    rows: tuple[int, ...]  # indices of the rows that belong to this flow, ascending

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(stage.function_name for stage in self.stages)


def flow_status(stages: tuple[Stage, ...]) -> FlowStatus:
    """See `Flow`: awaiting records, completed, failed or rolled back."""
    known = [stage for stage in stages if stage.state not in ("pending", "invoke failed")]
    if not known:
        return "invoke failed" if any(stage.state == "invoke failed" for stage in stages) else "awaiting records"
    failed = [stage for stage in known if stage.state == "failed"]
    if not failed:
        return "completed"
    handled_by = {stage.parent_request_id for stage in known if stage.succeeded and stage.parent_request_id}
    rolled_back = False
    for failure in failed:
        if failure.request_id is not None and failure.request_id in handled_by:
            rolled_back = True
            continue
        # re-driven: the same function succeeded later in this flow
        later = failure.timestamp if failure.timestamp is not None else math.inf
        if any(
            stage.succeeded
            and stage.function_name == failure.function_name
            and (stage.timestamp if stage.timestamp is not None else -math.inf) > later
            for stage in known
        ):
            continue
        return "failed"
    return "rolled back" if rolled_back else "completed"


def status_at(flow: Flow, now: float, timeout: float = AWAIT_SECONDS) -> FlowStatus:
    """A flow's status at `now`: "no records" once it has awaited its records for `timeout` s."""
    if flow.status == "awaiting records" and now - flow.first_seen > timeout:
        return "no records"
    return flow.status


def no_records_sentence(flow: Flow, watched: Sequence[str], waited: float) -> str:
    """What a flow with no records expected, and why they may not have come."""
    functions = ", ".join(dict.fromkeys(stage.function_name for stage in flow.stages)) or "its function"
    where = ", ".join(watched) or "no source"
    return (
        f"No record of {functions} arrived within {waited:.0f} s at {where}. It may not have come because "
        "another consumer is receiving the queue's messages (only one receiver gets each), the function's "
        "destinations do not point at a watched source, or Lambda is still retrying it (up to 6 hours); "
        f"`lambdest-tui doctor {functions.split(', ')[0]}` checks the destinations."
    )


@dataclass(frozen=True, slots=True)
class FunctionStats:
    """A function's rows (its own records) and its invocations: every invocation seen, its own
    record or nested in a downstream one (in the demo `order`'s successes are only ever nested)."""

    name: str
    records: int
    succeeded: int
    failed: int
    invocations: int = 0
    invocations_succeeded: int = 0

    @property
    def success_rate(self) -> float | None:
        """Of its invocations (its records when no invocation was counted)."""
        if self.invocations:
            return self.invocations_succeeded / self.invocations
        return self.succeeded / self.records if self.records else None


@dataclass(frozen=True, slots=True)
class Stats:
    """Totals as plain integers. `records` counts every row (decoded or not); duplicates are not rows."""

    records: int
    succeeded: int
    failed: int
    undecodable: int
    duplicates: int
    flows: int
    functions: Mapping[str, FunctionStats] = field(default_factory=dict)
    sources: Mapping[str, int] = field(default_factory=dict)
    failed_nested: int = 0  # failed invocations known only nested in a downstream record

    @property
    def failures(self) -> int:
        """Failed invocations, where they happened: failed records plus failures seen only nested
        (what `x` lists: a record that carries a nested failure is listed for it)."""
        return self.failed + self.failed_nested

    @property
    def success_rate(self) -> float | None:
        """Succeeded over decoded records (None before the first decoded record)."""
        decoded = self.succeeded + self.failed
        return self.succeeded / decoded if decoded else None


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the previous `drain_changes()`: new rows are `new_rows` (a range of row
    indices) and `flows` holds the ids of flows created or changed (merged-away ids included)."""

    version: int
    new_rows: range
    flows: frozenset[int]
    duplicates: int

    def __bool__(self) -> bool:
        return bool(self.new_rows) or bool(self.flows) or bool(self.duplicates)
