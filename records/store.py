"""Compact storage behind `records.flows.RecordStore`: interned strings, columnar rows, raw
re-reads, and the flow graph (invocations linked into flows).

Nothing here holds a record model or payload per row. A row is a handful of machine integers and
floats in `array.array` columns; repeated strings (function names, conditions, sources, error types,
correlation ids, request ids) are stored once in an `Interner` and referenced by number. What a
row's message said is re-read on demand from the file it was written to (`RawStore`), or kept as
text when the message has no file.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from records.files import SAVED_MARKER
from records.models import split_function_arn
from records.summary import Flow, FlowStatus, Stage, StageState

NONE = -1
ERROR_MESSAGE_CHARS = 160
REASON_CHARS = 400

# flag bits of a row
OK = 1
SUCCEEDED = 2
STREAM = 4


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

    def matching(self, needle: str) -> set[int]:
        """Numbers of the stored strings containing `needle` (already lower-cased)."""
        return {number for number, text in enumerate(self.strings) if needle in text.lower()}

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
        "next_same_request",
        "offset",
        "parent",
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
        self.parent = array("i")
        self.envelope = array("i")
        self.message = array("i")  # which message the row came from (several rows may share one)
        self.sub = array("H")  # position of the row among its message's decoded inputs
        self.file = array("i")
        self.offset = array("q")
        self.length = array("i")
        self.next_same_request = array("i")  # the next row with the same request id (dedupe chain)

    def __len__(self) -> int:
        return len(self.flags)

    def arrays(self) -> Iterator[array[Any]]:
        for name in self.__slots__:
            yield getattr(self, name)

    def nbytes(self) -> int:
        return sum(column.itemsize * column.buffer_info()[1] for column in self.arrays())


def unwrap_line(line: bytes) -> tuple[str, dict[str, Any], str | None, str | None]:
    """A line of a session or replay file as (raw, meta, source, received), as `read_at` does."""
    line = line.strip()
    text = line.decode("utf-8", errors="backslashreplace")
    if line.startswith(SAVED_MARKER):
        try:
            saved = json.loads(text)
        except json.JSONDecodeError:
            return text, {}, None, None
        if isinstance(saved, dict) and isinstance(saved.get("raw"), str):
            meta = saved.get("meta")
            source = saved.get("source")
            received = saved.get("received")
            return (
                saved["raw"],
                meta if isinstance(meta, dict) else {},
                source if isinstance(source, str) else None,
                received if isinstance(received, str) else None,
            )
    return text, {}, None, None


class RawStore:
    """Where each message's raw text lives: a (file, offset, length), or in memory when it has no file.

    The last `recent` messages are also kept in memory, so a record that just arrived can be shown
    even before the session writer flushed it to disk.
    """

    def __init__(self, recent: int = 4096, open_files: int = 8) -> None:
        self.files = Interner()
        self._memory: dict[int, tuple[str, Mapping[str, Any]]] = {}
        self._recent: OrderedDict[int, tuple[str, Mapping[str, Any]]] = OrderedDict()
        self._recent_limit = recent
        self._handles: OrderedDict[int, IO[bytes]] = OrderedDict()
        self._handle_limit = open_files

    def remember(self, message: int, raw: str, meta: Mapping[str, Any], has_file: bool) -> None:
        if not has_file:
            self._memory[message] = (raw, meta)
            return
        self._recent[message] = (raw, meta)
        if len(self._recent) > self._recent_limit:
            self._recent.popitem(last=False)

    def in_memory(self, message: int) -> tuple[str, Mapping[str, Any]] | None:
        return self._memory.get(message) or self._recent.get(message)

    def memory_only(self, message: int) -> tuple[str, Mapping[str, Any]] | None:
        """The raw text of a message that has no file (None when it has one)."""
        return self._memory.get(message)

    def read_line(self, file: int, offset: int, length: int) -> bytes:
        """The bytes of one line of a file; raises OSError (or ValueError on a short read)."""
        handle = self._handles.get(file)
        if handle is None:
            path = self.files.get(file)
            assert path is not None
            handle = Path(path).open("rb")  # noqa: SIM115 (kept open for the next reads; closed in close())
            self._handles[file] = handle
            if len(self._handles) > self._handle_limit:
                self._handles.popitem(last=False)[1].close()
        else:
            self._handles.move_to_end(file)
        handle.seek(offset)
        data = handle.read(length)
        if len(data) < length:
            raise ValueError(f"the file ends before byte {offset + length} (was it truncated or not yet written?)")
        return data

    def close(self) -> None:
        while self._handles:
            self._handles.popitem()[1].close()

    def memory_bytes(self) -> int:
        total = sys.getsizeof(self._memory)
        for raw, _meta in self._memory.values():
            total += sys.getsizeof(raw)
        return total


class LruCache:
    """A small least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, Any] = OrderedDict()

    def get(self, key: int) -> Any:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: int, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# flag bits of a request (an invocation, a flow stage)
KNOWN = 1  # its outcome is known (its own record or a nested copy was seen)
REQ_SUCCEEDED = 2
OWN = 4  # its own record is a row
NESTED = 8  # seen nested in a downstream record
PENDING = 16  # expected (a test order was sent), nothing seen yet
PLACEHOLDER = 32  # expected without a known request id

MAX_NESTING = 32
_NAN = math.nan


def parse_time(value: Any) -> float:
    """Seconds since the epoch of an ISO-8601 string (naive means UTC); NaN when it is not one."""
    if not isinstance(value, str):
        return _NAN
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _NAN
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _int32(value: int | None) -> int:
    return NONE if value is None else max(-1, min(value, 2**31 - 1))


@dataclass(frozen=True, slots=True)
class StageFacts:
    """What one record says about one invocation (its own, or a nested upstream one)."""

    request_id: str
    function: str
    condition: str | None
    attempts: int | None
    succeeded: bool
    timestamp: float
    error_type: str | None


class Names:
    """The interned strings shared by the rows and the flow graph."""

    def __init__(self) -> None:
        self.sources = Interner()
        self.functions = Interner()
        self.conditions = Interner()
        self.error_types = Interner()
        self.error_messages = Interner()
        self.correlations = Interner()
        self.requests = Interner()

    def all(self) -> tuple[Interner, ...]:
        return (
            self.sources,
            self.functions,
            self.conditions,
            self.error_types,
            self.error_messages,
            self.correlations,
            self.requests,
        )


class FlowGraph:
    """Invocations (by request id) linked into flows, in columns.

    A flow is a linked list of requests; flows are joined by correlation id or by a request id
    that two records share (one record nesting the other). Merged-away flow ids forward to the
    flow they joined.
    """

    def __init__(self, names: Names, columns: Columns) -> None:
        self.names = names
        self.columns = columns
        self._arn_names: dict[str, str] = {}
        # per request
        self.function = array("i")
        self.condition = array("i")
        self.attempts = array("i")
        self.flags = array("B")
        self.timestamp = array("d")
        self.error_type = array("i")
        self.parent = array("i")
        self.row = array("i")  # first row holding its own record
        self.flow = array("i")
        self.next = array("i")  # next request of the same flow
        # per flow
        self.flow_correlation = array("i")
        self.first_seen = array("d")
        self.last_seen = array("d")
        self.head = array("i")
        self.tail = array("i")
        self.alias = array("i")  # -1 while alive, else the flow it was merged into
        self.order = array("i")  # live flow ids in creation order
        self.correlation_flow = array("i")  # per correlation id
        self.changed: set[int] = set()

    def request(self, request_id: str) -> int:
        number = self.names.requests.id(request_id)
        if number >= len(self.flags):
            for column in (self.function, self.condition, self.attempts, self.error_type, self.parent):
                column.append(NONE)
            for column in (self.row, self.flow, self.next):
                column.append(NONE)
            self.flags.append(0)
            self.timestamp.append(_NAN)
        return number

    def function_name(self, arn: str) -> str:
        name = self._arn_names.get(arn)
        if name is None:
            name = split_function_arn(arn)[0]
            if len(self._arn_names) < 10_000:
                self._arn_names[arn] = name
        return name

    def nested(self, payload: Any) -> list[StageFacts]:
        """The upstream records nested in a request payload, nearest first."""
        stages: list[StageFacts] = []
        while isinstance(payload, dict) and len(stages) < MAX_NESTING:
            context = payload.get("requestContext")
            if not isinstance(context, dict):
                break
            request_id = context.get("requestId")
            arn = context.get("functionArn")
            if not isinstance(request_id, str) or not isinstance(arn, str):
                break
            condition = context.get("condition")
            condition = condition if isinstance(condition, str) else None
            attempts = context.get("approximateInvokeCount")
            attempts = attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None
            response = payload.get("responseContext")
            function_error = response.get("functionError") if isinstance(response, dict) else None
            succeeded = condition == "Success" and function_error is None
            error_type = None
            if not succeeded:
                body = payload.get("responsePayload")
                value = body.get("errorType") if isinstance(body, dict) else None
                value = value if isinstance(value, str) else function_error
                error_type = value if isinstance(value, str) else None
            stages.append(
                StageFacts(
                    request_id,
                    self.function_name(arn),
                    condition,
                    attempts,
                    succeeded,
                    parse_time(payload.get("timestamp")),
                    error_type,
                )
            )
            payload = payload.get("requestPayload")
        return stages

    def link(self, request: int, row: int, parent: int, nested: list[StageFacts], received: float) -> int:
        """Record a row's own invocation and the upstream ones nested in it; returns its flow."""
        c = self.columns
        flags = self.flags
        self.function[request] = c.function[row]
        self.condition[request] = c.condition[row]
        self.attempts[request] = c.attempts[row]
        self.timestamp[request] = c.timestamp[row]
        self.error_type[request] = c.error_type[row]
        self.parent[request] = parent
        own = KNOWN | OWN | (REQ_SUCCEEDED if c.flags[row] & SUCCEEDED else 0)
        flags[request] = (flags[request] & (NESTED | PLACEHOLDER)) | own
        requests = [request]
        numbers = [self.request(stage.request_id) for stage in nested]
        for position, stage in enumerate(nested):
            number = numbers[position]
            requests.append(number)
            if flags[number] & OWN:  # its own record is authoritative
                flags[number] |= NESTED
                continue
            self.function[number] = self.names.functions.id(stage.function)
            self.condition[number] = self.names.conditions.id(stage.condition)
            self.attempts[number] = _int32(stage.attempts)
            self.timestamp[number] = stage.timestamp
            self.error_type[number] = self.names.error_types.id(stage.error_type)
            self.parent[number] = numbers[position + 1] if position + 1 < len(numbers) else NONE
            known = KNOWN | NESTED | (REQ_SUCCEEDED if stage.succeeded else 0)
            flags[number] = (flags[number] & PLACEHOLDER) | known
        if parent != NONE and parent not in requests:
            requests.append(parent)
        return self.join(requests, c.correlation[row], received)

    def expect(self, correlation: int, function: int, request_id: str | None, now: float) -> int:
        key = request_id if request_id is not None else f"\x00expected:{len(self.flags)}"
        request = self.request(key)
        if not self.flags[request] & KNOWN:
            self.function[request] = function
            self.flags[request] |= PENDING | (PLACEHOLDER if request_id is None else 0)
        return self.join([request], correlation, now)

    def join(self, requests: list[int], correlation: int, seen: float) -> int:
        """Find (creating or merging) the flow these requests and this correlation id belong to."""
        candidates: set[int] = set()
        if correlation != NONE and correlation < len(self.correlation_flow):
            flow = self.correlation_flow[correlation]
            if flow != NONE:
                candidates.add(flow)
        for request in requests:
            flow = self.flow[request]
            if flow != NONE:
                candidates.add(flow)
        if candidates:
            target = min(candidates)
            for other in sorted(candidates - {target}):
                self._merge(other, target)
        else:
            target = self._new_flow(seen)
        for request in requests:
            if self.flow[request] == NONE:
                self._append(target, request)
        if correlation != NONE:
            while len(self.correlation_flow) <= correlation:
                self.correlation_flow.append(NONE)
            self.correlation_flow[correlation] = target
            if self.flow_correlation[target] == NONE:
                self.flow_correlation[target] = correlation
        self.first_seen[target] = min(self.first_seen[target], seen)
        self.last_seen[target] = max(self.last_seen[target], seen)
        self.changed.add(target)
        return target

    def _new_flow(self, seen: float) -> int:
        flow = len(self.alias)
        for column in (self.flow_correlation, self.head, self.tail, self.alias):
            column.append(NONE)
        self.first_seen.append(seen)
        self.last_seen.append(seen)
        self.order.append(flow)
        return flow

    def _append(self, flow: int, request: int) -> None:
        self.flow[request] = flow
        tail = self.tail[flow]
        if tail == NONE:
            self.head[flow] = request
        else:
            self.next[tail] = request
        self.tail[flow] = request

    def _merge(self, source: int, target: int) -> None:
        request = self.head[source]
        while request != NONE:
            self.flow[request] = target
            request = self.next[request]
        if self.head[source] != NONE:
            if self.tail[target] == NONE:
                self.head[target] = self.head[source]
            else:
                self.next[self.tail[target]] = self.head[source]
            self.tail[target] = self.tail[source]
        self.first_seen[target] = min(self.first_seen[target], self.first_seen[source])
        self.last_seen[target] = max(self.last_seen[target], self.last_seen[source])
        correlation = self.flow_correlation[source]
        if correlation != NONE:
            self.correlation_flow[correlation] = target
            if self.flow_correlation[target] == NONE:
                self.flow_correlation[target] = correlation
        self.alias[source] = target
        self.head[source] = self.tail[source] = NONE
        self.order.remove(source)
        self.changed.add(source)

    def resolve(self, flow: int) -> int | None:
        """A live flow id (following merges), or None for an unknown id."""
        if not 0 <= flow < len(self.alias):
            return None
        for _ in range(len(self.alias)):
            alias = self.alias[flow]
            if alias == NONE:
                return flow
            flow = alias
        return None

    def build(self, flow_id: int) -> Flow | None:
        resolved = self.resolve(flow_id)
        if resolved is None:
            return None
        stages: list[tuple[float, int, Stage]] = []
        rows: list[int] = []
        request = self.head[resolved]
        while request != NONE:
            stage = self.stage(request)
            row = self.row[request] if self.flags[request] & OWN else NONE
            while row != NONE:
                rows.append(row)
                row = self.columns.next_same_request[row]
            stamp = self.timestamp[request]
            stages.append((math.inf if math.isnan(stamp) else stamp, request, stage))
            request = self.next[request]
        known = {stage.function_name for _, _, stage in stages if stage.state != "pending"}
        ordered = tuple(
            stage
            for _, request, stage in sorted(stages, key=lambda item: (item[0], item[1]))
            if not (self.flags[request] & PLACEHOLDER and stage.function_name in known)
        )
        return Flow(
            id=resolved,
            correlation_id=self.names.correlations.get(self.flow_correlation[resolved]),
            stages=ordered,
            status=flow_status(ordered),
            first_seen=self.first_seen[resolved],
            last_seen=self.last_seen[resolved],
            rows=tuple(sorted(rows)),
        )

    def stage(self, request: int) -> Stage:
        flags = self.flags[request]
        state: StageState = ("succeeded" if flags & REQ_SUCCEEDED else "failed") if flags & KNOWN else "pending"
        attempts = self.attempts[request]
        stamp = self.timestamp[request]
        names = self.names
        return Stage(
            function_name=names.functions.get(self.function[request]) or "?",
            request_id=None if flags & PLACEHOLDER else names.requests.get(request),
            parent_request_id=names.requests.get(self.parent[request]),
            state=state,
            condition=names.conditions.get(self.condition[request]),
            attempts=None if attempts == NONE else attempts,
            timestamp=None if math.isnan(stamp) else stamp,
            error_type=names.error_types.get(self.error_type[request]),
            row=self.row[request] if flags & OWN else None,
            nested=bool(flags & NESTED) and not flags & OWN,
        )

    def nbytes(self) -> int:
        columns = [value for value in vars(self).values() if isinstance(value, array)]
        return sum(column.itemsize * len(column) for column in columns)


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
