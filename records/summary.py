"""The small, immutable things the record store hands out: row summaries, flow stages, flows, stats.

They are built on demand from the store's compact columns (see `records.flows`), so holding one
costs nothing per stored record; the UI builds them only for the rows on screen. The compact
columns and string tables themselves are at the end of this module.
"""

from __future__ import annotations

import math
import re
import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

NONE = -1

# flag bits of a row
OK = 1
SUCCEEDED = 2
STREAM = 4

Outcome = Literal["succeeded", "failed", "undecodable"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "failed", "undecodable")

FlowStatus = Literal["completed", "failed", "rolled back", "awaiting records"]
StageState = Literal["succeeded", "failed", "pending"]


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
    kind: str | None  # "async-invocation" | "stream-failure" | None (undecodable)
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

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"


@dataclass(frozen=True, slots=True)
class Flow:
    """Records linked into one order's flow, stages in time order (upstream first).

    status:
      "awaiting records"  a test order was sent (`expect`) and no record of it has arrived yet
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
    known = [stage for stage in stages if stage.state != "pending"]
    if not known:
        return "awaiting records"
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


# ---------------------------------------------------------------- compact storage


class Interner:
    """Strings stored once, referred to by a number (-1 is None)."""

    __slots__ = ("_ids", "strings")

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.strings: list[str] = []

    def id(self, value: str | None) -> int:
        if value is None:
            return NONE
        found = self._ids.get(value)
        if found is None:
            found = len(self.strings)
            self._ids[value] = found
            self.strings.append(value)
        return found

    def find(self, value: str) -> int:
        """The number of a string already stored, or -1."""
        return self._ids.get(value, NONE)

    def get(self, number: int) -> str | None:
        return None if number < 0 else self.strings[number]

    def __len__(self) -> int:
        return len(self.strings)

    def nbytes(self) -> int:
        """Approximate memory held (strings, list and dict)."""
        total = sys.getsizeof(self.strings) + sys.getsizeof(self._ids)
        return total + sum(sys.getsizeof(text) for text in self.strings)


class Columns:
    """The rows, one `array` per field (structure of arrays)."""

    __slots__ = (
        "attempts",
        "condition",
        "correlation",
        "envelope",
        "error_message",
        "error_type",
        "file",
        "flags",
        "function",
        "length",
        "message",
        "offset",
        "received",
        "request",
        "source",
        "sub",
        "timestamp",
    )

    def __init__(self) -> None:
        self.received = array("d")
        self.timestamp = array("d")  # NaN when unknown
        self.source = array("i")
        self.flags = array("B")
        self.function = array("i")
        self.condition = array("i")
        self.attempts = array("i")
        self.error_type = array("i")
        self.error_message = array("i")
        self.correlation = array("i")
        self.request = array("i")  # request id number (shared with the flow linker)
        self.envelope = array("i")
        self.message = array("i")  # which message the row came from (several rows may share one)
        self.sub = array("H")  # position of the row among its message's decoded inputs
        self.file = array("i")
        self.offset = array("q")
        self.length = array("i")

    def __len__(self) -> int:
        return len(self.flags)

    def arrays(self) -> Iterator[array[Any]]:
        for name in self.__slots__:
            yield getattr(self, name)

    def nbytes(self) -> int:
        return sum(column.itemsize * column.buffer_info()[1] for column in self.arrays())


_PACKED_UUID = 0xFE  # never the first byte of UTF-8 text
_PACKED_PREFIX = bytes((_PACKED_UUID,))
# only this spelling is packed: `get()` gives back exactly the string that was stored
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class StringTable:
    """Many distinct strings (request ids, correlation ids, error messages), compactly: their UTF-8
    bytes in one bytearray (a canonical UUID packed into 17 bytes), numbered in order, with the low
    32 bits of each one's hash, and an open-addressing hash index (the number in each slot). 8 to 16
    bytes of index a string, no Python object per string; `get()` decodes on demand. Same API as
    Interner. The stored hash skips most byte comparisons and makes growing the index cheap (no
    string is hashed again).

    The index doubles when it is half full: a new string (most of a replay's) then probes about 1.5
    slots on average instead of about 3 at 70% (a tenth of a replay's storing time). To keep every
    call short (the UI ingests on its event loop), the old index is moved into the new one a few
    strings a call, and looked in until then.
    """

    _MIGRATE = 16  # strings moved a call: done long before the new index fills up

    def __init__(self, *, pack_uuids: bool = False) -> None:
        self._pack = pack_uuids
        self._blob = bytearray()
        self._ends = array("I")  # end of each string in the blob (widened to "q" past 4 GB)
        self._hashes = array("I")  # low 32 bits of each string's hash (the index never has 2**32 slots)
        self._slots = array("i", [NONE]) * 8
        self._old: array[int] | None = None  # the index being moved into `_slots` (while it grows)
        self._cursor = 0  # the next number to move
        self._moving = 0  # numbers below this are in `_old`

    def _encode(self, value: str) -> bytes:
        if self._pack and len(value) == 36 and _CANONICAL_UUID.fullmatch(value) is not None:
            return _PACKED_PREFIX + bytes.fromhex(value.replace("-", ""))
        return value.encode("utf-8", "surrogatepass")

    def _stored(self, number: int) -> bytearray:
        start = self._ends[number - 1] if number else 0
        return self._blob[start : self._ends[number]]

    def _search(self, slots: array[int], encoded: bytes, hashed: int) -> tuple[int, int]:
        """(number or -1, the slot where the probe stopped) in one index."""
        mask = len(slots) - 1
        low = hashed & 0xFFFFFFFF
        hashes = self._hashes
        slot = hashed & mask
        while True:
            number = slots[slot]
            if number == NONE:
                return NONE, slot
            if hashes[number] == low and self._stored(number) == encoded:
                return number, slot
            slot = (slot + 1) & mask

    def id(self, value: str | None) -> int:
        if value is None:
            return NONE
        encoded = self._encode(value)
        hashed = hash(encoded)
        low = hashed & 0xFFFFFFFF
        # the probe of _search(), inlined: this runs several times for every record
        slots = self._slots
        hashes = self._hashes
        mask = len(slots) - 1
        slot = hashed & mask
        ends = self._ends
        blob = self._blob
        while True:
            number = slots[slot]
            if number == NONE:
                break
            if hashes[number] == low and blob[ends[number - 1] if number else 0 : ends[number]] == encoded:
                return number
            slot = (slot + 1) & mask
        if self._old is not None:
            found, _ = self._search(self._old, encoded, hashed)
            self._migrate()
            if found != NONE:
                return found
            slots = self._slots
            number, slot = self._search(slots, encoded, hashed)
        blob += encoded
        number = len(ends)
        if len(blob) > 0xFFFFFFFF and ends.typecode == "I":
            self._ends = ends = array("q", ends)
        ends.append(len(blob))
        hashes.append(low)
        slots[slot] = number
        if (number + 1) * 2 > len(slots):
            self._start_growing()
        return number

    def _start_growing(self) -> None:
        if self._old is not None:  # cannot happen with _MIGRATE >= 2, but never lose entries
            while self._old is not None:
                self._migrate()
        self._old = self._slots
        self._slots = array("i", [NONE]) * (len(self._slots) * 2)
        self._cursor = 0
        self._moving = len(self._ends)  # the numbers the old index holds
        self._migrate()

    def _migrate(self) -> None:
        """Move the next few strings of the old index into the new one (by number: no empty slot
        is visited)."""
        slots = self._slots
        hashes = self._hashes
        mask = len(slots) - 1
        end = min(self._moving, self._cursor + self._MIGRATE)
        for number in range(self._cursor, end):
            slot = hashes[number] & mask
            while slots[slot] != NONE:
                slot = (slot + 1) & mask
            slots[slot] = number
        self._cursor = end
        if end >= self._moving:
            self._old = None

    def find(self, value: str) -> int:
        encoded = self._encode(value)
        hashed = hash(encoded)
        old = self._old  # read once: another thread may be ingesting
        number, _ = self._search(self._slots, encoded, hashed)
        if number == NONE and old is not None:
            number, _ = self._search(old, encoded, hashed)
        return number

    def get(self, number: int) -> str | None:
        if number < 0:
            return None
        data = self._stored(number)
        if len(data) == 17 and data[0] == _PACKED_UUID:
            text = data[1:].hex()
            return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        return data.decode("utf-8", "surrogatepass")

    def __len__(self) -> int:
        return len(self._ends)

    def nbytes(self) -> int:
        size = len(self._blob) + (self._ends.itemsize + 4) * len(self._ends) + 4 * len(self._slots)
        return size + (4 * len(self._old) if self._old is not None else 0)
