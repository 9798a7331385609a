"""`RecordStore`: every decoded input of a session as a compact row, deduped, linked into flows, counted.

How rows, dedupe, flows, stats, filters and saving work: docs/flows.md.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from records.decode import DEFAULT_CORRELATOR, Correlator, Decoded, decode
from records.facts import REQUEST_ID, FactMaker, MessageFacts, RowFacts, parse_time
from records.message import Message
from records.store.columns import Columns
from records.store.dead_letters import DeadLetters
from records.store.graph import OWN as OWN_REQUEST
from records.store.graph import FlowGraph, Names
from records.store.raw import RawStore, Rereader
from records.store.rows import (
    DEAD_LETTER,
    NONE,
    OK,
    STREAM,
    SUCCEEDED,
    Changes,
    Flow,
    FlowView,
    FunctionStats,
    RowSummary,
    Stage,
    Stats,
)
from records.store.saving import save_session

__all__ = ["RecordStore"]

_RATE_WINDOW = 600


class RecordStore:
    """Every decoded input of a session as a compact row, linked into flows (docs/flows.md).

    Feed it with `ingest(message)` (decoded here when the message was not) or `ingest_facts_many`
    (facts made in another process: the replay worker); read it with `row(i)` (a `RowSummary`
    built on demand), `load(i)` / `raw(i)` (re-read and decoded again), `flows()` / `flow(id)`,
    `stats()`, `rate()` and `drain_changes()` (poll it; refresh once); filter it with
    `records.store.views.RecordView(store, filter)`; write it out with `save(path, rows)`.

    Rows hold no payloads and no models: a few numbers per row in `array` columns plus interned
    strings. A record counts once per (request id, function, condition, invoke count); an input
    that is not a record once per SQS MessageId; duplicates are only counted.

    Threads: ingest from one thread (the UI's event loop). Views may be scanned in a worker thread:
    `load()`, `raw()`, `save()` and file reads take a lock.
    """

    def __init__(
        self,
        *,
        correlator: Correlator = DEFAULT_CORRELATOR,
        clock: Callable[[], float] = time.time,
        cache_size: int = 128,
        recent_raw: int = 4096,
    ) -> None:
        """`cache_size`: decoded messages kept for `load()`; `recent_raw`: raw texts of the latest
        file-backed messages kept in memory (so a record is shown before its file is flushed)."""
        self.correlator = correlator
        self.clock = clock
        self.columns = Columns()
        self.names = Names()
        self.graph = FlowGraph(self.names, self.columns)
        self.raws = RawStore(recent=recent_raw)
        self._lock = threading.RLock()  # re-reading and saving may run in a worker thread
        self._reread = Rereader(self.columns, self.raws, correlator, cache_size, self._lock)
        self._envelopes: dict[tuple[str, ...], int] = {}
        self._envelope_list: list[tuple[str, ...]] = []
        self._function_ids: dict[str, int] = {}
        self.facts = FactMaker()
        self._source_ids: dict[str, int] = {}
        self._last_file_source = ("\x00", NONE)  # ("file:NAME:", its source number)
        # stats
        self._succeeded = 0
        self._failed = 0
        self._undecodable = 0
        self._duplicates = 0
        self._fn_records = array("q")
        self._fn_succeeded = array("q")
        self._source_records = array("q")
        self._rate: dict[int, int] = {}
        # dedupe and change tracking
        self._message_ids: set[int] = set()
        self._message_count = 0
        self._last_received: tuple[str, float] = ("", math.nan)
        self.version = 0
        self._drained_rows = 0
        self._new_duplicates = 0
        self.dead_letters = DeadLetters(self.graph, self._function_of, self._count_record)

    # ------------------------------------------------------------------ ingest

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.columns.flags)

    def ingest(self, message: Message) -> int:
        """Store one message's decoded inputs; returns how many rows were added (duplicates are not).
        A message without `decoded` is decoded here with the store's correlator."""
        if not message.decoded:
            decoded = tuple(decode(message.raw, meta=message.meta, correlator=self.correlator))
            message = replace(message, decoded=decoded)
        return self.ingest_facts(self.facts.message(message))

    def ingest_many(self, messages: Iterable[Message]) -> int:
        """`ingest` of each message; returns how many rows were added."""
        return sum(self.ingest(message) for message in messages)

    def ingest_facts(self, message: MessageFacts) -> int:
        """Store one message given as facts (`records.facts`, computed here or in another process);
        returns how many rows were added."""
        return self.ingest_facts_many((message,))

    def ingest_facts_many(self, messages: Iterable[MessageFacts]) -> int:
        """`ingest_facts` of each message, in order (the bookkeeping once for all). Taken from an
        iterator, the messages after one that raised can be stored by calling this again."""
        total = 0
        add_row = self._add_row
        try:
            for message in messages:
                raw, source_text, received_text, meta, rows, file, offset, length = message
                message_id = meta.get("MessageId") if meta else None
                # A record is deduped by its own key; the MessageId only matters for inputs that are not records.
                if isinstance(message_id, str) and not all(row[REQUEST_ID] is not None for row in rows):
                    key = hash(message_id)
                    if key in self._message_ids:
                        self._duplicates += len(rows)
                        self._new_duplicates += len(rows)
                        continue
                    self._message_ids.add(key)
                number = self._message_count
                has_file = file is not None and offset is not None and length is not None
                last_text, received = self._last_received
                if received_text != last_text:
                    received = self._received(received_text)
                source = self._source_ids.get(source_text)
                if source is None:
                    source = self._source_of(source_text)
                location = (self.raws.files.id(file), offset or 0, length or 0) if has_file else (NONE, 0, 0)
                added = 0
                for sub, row in enumerate(rows):
                    if add_row(row, number, sub, received, source, location):
                        added += 1
                if added:  # a message whose records were all duplicates leaves nothing behind
                    self._message_count += 1
                    if raw is not None or not has_file:
                        self.raws.remember(number, raw, meta, has_file)
                    self._source_records[source] += added
                    total += added
        finally:
            if total:
                second = int(self.clock())
                self._rate[second] = self._rate.get(second, 0) + total
                if len(self._rate) > _RATE_WINDOW:
                    for old in [s for s in self._rate if s <= second - _RATE_WINDOW]:
                        del self._rate[old]
            # The decoded models are not cached here: keeping them alive for a while makes freeing
            # them later cost more than decoding the few a person opens again (the raw text of the
            # latest messages is kept: `load()` of a row that just arrived needs no file read).
            self.version += 1
        return total

    def _source_of(self, source_text: str) -> int:
        """The source number of a message's source (a replayed file's lines share their file's)."""
        prefix, known = self._last_file_source
        if source_text.startswith(prefix):
            # `file:NAME:LINE`, one per line of a replayed file: the same source as the line before
            tail = source_text[len(prefix) :]
            if tail.isdecimal() and tail.isascii():
                return known
        source = self.names.sources.id(_source_label(source_text))
        _grow(self._source_records, source + 1)
        if len(self._source_ids) < 10_000:
            self._source_ids[source_text] = source
        label = self.names.sources.get(source)
        if label is not None and label.startswith("file:") and source_text.startswith(label + ":"):
            self._last_file_source = (label + ":", source)
        return source

    def _received(self, text: str) -> float:
        last_text, last_value = self._last_received
        if text == last_text:
            return last_value
        value = parse_time(text)
        if math.isnan(value):
            value = self.clock()
        self._last_received = (text, value)
        return value

    def _add_row(
        self, row: RowFacts, message: int, sub: int, received: float, source: int, location: tuple[int, int, int]
    ) -> bool:
        names = self.names
        graph = self.graph
        c = self.columns
        (
            envelope,
            request_id,
            function_name,
            condition_name,
            attempts,
            succeeded,
            stream,
            timestamp,
            correlation_id,
            error_type_name,
            error_message_text,
            parent_id,
            nested,
            reason_text,
            dead_letter_queue,
        ) = row
        earlier: Sequence[int] = ()
        is_record = request_id is not None
        if not is_record:  # a row with its reason, in no flow
            function = condition = attempts = error_type = correlation = request = NONE
            error_message = names.error_messages.id(reason_text)
            timestamp = math.nan
            flags = 0
        else:
            request_number = names.requests.id  # graph.request(), inlined (this runs for every record)
            request = request_number(request_id)
            flags_of = graph.flags
            if request >= len(flags_of):
                graph.make_room(request)
            if dead_letter_queue is None:
                function = self._function_of(function_name)
            else:
                dead_letter_queue = dead_letter_queue or names.sources.get(source) or "?"
                function = self.dead_letters.function(dead_letter_queue, request)
            condition = names.conditions.id(condition_name)
            earlier = graph.rows_of(request) if flags_of[request] & OWN_REQUEST else ()
            for previous in earlier:
                if (
                    c.function[previous] == function
                    and c.condition[previous] == condition
                    and c.attempts[previous] == attempts
                ):
                    self._duplicates += 1
                    self._new_duplicates += 1
                    return False
            if nested:
                numbers = [request_number(stage[0]) for stage in nested]  # stage[0]: its request id
                if max(numbers) >= len(flags_of):
                    graph.make_room(max(numbers))
                parent = numbers[0]
            else:
                numbers = []
                parent = graph.request(parent_id) if parent_id is not None else NONE
            index = len(c.flags)
            if succeeded:
                error_type = error_message = NONE
            else:
                error_type = names.error_types.id(error_type_name)
                error_message = names.error_messages.id(error_message_text)
            flags = OK | (SUCCEEDED if succeeded else 0) | (STREAM if stream else 0)
            if dead_letter_queue is not None:
                flags |= DEAD_LETTER
            correlation = names.correlations.id(correlation_id)
        # one row: a few numbers, one per column
        envelope_number = self._envelopes.get(envelope)
        if envelope_number is None:
            envelope_number = len(self._envelope_list)
            self._envelopes[envelope] = envelope_number
            self._envelope_list.append(envelope)
        c.envelope.append(envelope_number)
        c.message.append(message)
        c.sub.append(sub if sub < 65535 else 65535)
        c.file.append(location[0])
        c.offset.append(location[1])
        c.length.append(location[2])
        c.received.append(received)
        c.timestamp.append(timestamp)
        c.source.append(source)
        c.function.append(function)
        c.condition.append(condition)
        c.attempts.append(attempts)
        c.error_type.append(error_type)
        c.error_message.append(error_message)
        c.correlation.append(correlation)
        c.request.append(request)
        c.flags.append(flags)  # last: a reader that sees len(flags) sees every column filled
        if not is_record:
            self._undecodable += 1
            return True
        if earlier:
            graph.more_rows.setdefault(request, []).append(index)
        if dead_letter_queue is not None:
            self._failed += 1
            self.dead_letters.link(index, request, function, dead_letter_queue, received)
            return True
        self._fn_records[function] += 1
        if succeeded:
            self._succeeded += 1
            self._fn_succeeded[function] += 1
        else:
            self._failed += 1
        graph.link(request, index, parent, nested, numbers, received)
        if self.dead_letters.orphans:
            self.dead_letters.adopt(request, index, nested, numbers)
        return True

    def dead_letter_queue(self, queue: str, function: str) -> None:
        """`queue` (a queue or topic name, URL or ARN) is the dead-letter queue of `function`
        (discovery's "dead-letter" route): its messages are that function's."""
        self.dead_letters.learn(queue, function)

    def _count_record(self, function: int) -> None:
        self._fn_records[function] += 1

    def _function_of(self, name: str) -> int:
        number = self._function_ids.get(name)
        if number is None:
            number = self._function_ids[name] = self.names.functions.id(name)
            _grow(self._fn_records, number + 1)
            _grow(self._fn_succeeded, number + 1)
        return number

    # ------------------------------------------------------------------ flows

    def expect(self, correlation_id: str | None, function: str, request_id: str | None = None) -> int:
        """A test order was sent: show its flow at once as "awaiting records"; returns the flow id.

        The stage for `function` is pending until its record (or a downstream record nesting it)
        arrives. Without a request id the pending stage is dropped once any record of that function
        joins the flow."""
        correlation = self.names.correlations.id(correlation_id)
        flow = self.graph.expect(correlation, self.names.functions.id(function), request_id, self.clock())
        self.version += 1
        return flow

    def invoke_failed(self, correlation_id: str | None, function: str, reason: str) -> int | None:
        """A test order's invoke was refused: its flow says "invoke failed" and why, at once."""
        if correlation_id is None:
            return None
        flow = self.graph.invoke_failed(
            self.names.correlations.find(correlation_id), self.names.functions.id(function), reason
        )
        self.version += 1
        return flow

    def flow(self, flow_id: int) -> Flow | None:
        """The flow with this id (or the flow it was merged into), built from the columns."""
        return self.graph.build(flow_id)

    def flow_of(self, index: int) -> int | None:
        """The flow a row belongs to (None for an undecodable row)."""
        request = self.columns.request[index]
        flow = self.graph.flow[request] if request != NONE else NONE
        return None if flow == NONE else flow

    def flows(self) -> FlowView:
        """Live flow ids, newest first."""
        return FlowView(self.graph.order)

    def flow_count(self) -> int:
        """How many live flows there are (merged-away flows are not counted)."""
        return len(self.graph.order)

    def stage_of(self, index: int) -> Stage | None:
        """The flow stage a row is the record of (None for an undecodable row)."""
        request = self.columns.request[index]
        return None if request == NONE else self.graph.stage(request)

    # ------------------------------------------------------------------ rows

    def row(self, index: int) -> RowSummary:
        """The summary of one row (raises IndexError for an index out of range)."""
        c = self.columns
        if index < 0:
            index += len(c.flags)
        flags = c.flags[index]
        ok = bool(flags & OK)
        stamp = c.timestamp[index]
        attempts = c.attempts[index]
        file = c.file[index]
        names = self.names
        return RowSummary(
            index=index,
            received=c.received[index],
            timestamp=None if math.isnan(stamp) else stamp,
            source=names.sources.get(c.source[index]) or "",
            ok=ok,
            kind=None if not ok else _KINDS[flags & (STREAM | DEAD_LETTER)],
            function_name=names.functions.get(c.function[index]),
            condition=names.conditions.get(c.condition[index]),
            succeeded=bool(flags & SUCCEEDED),
            attempts=None if attempts == NONE else attempts,
            error_type=names.error_types.get(c.error_type[index]),
            error_message=names.error_messages.get(c.error_message[index]),
            correlation_id=names.correlations.get(c.correlation[index]),
            request_id=names.requests.get(c.request[index]),
            parent_request_id=names.requests.get(self.graph.parent[c.request[index]]) if ok else None,
            flow_id=self.flow_of(index) if ok else None,
            envelope=self._envelope_list[c.envelope[index]],
            file=self.raws.files.get(file),
            offset=c.offset[index] if file != NONE else None,
            length=c.length[index] if file != NONE else None,
            nested_failures=tuple(self.graph.carried_failures(index)),
            dead_letter_queue=self.graph.dead_letter_queues.get(index) if flags & DEAD_LETTER else None,
        )

    def message_raw(self, index: int) -> tuple[str, Mapping[str, Any]]:
        """The raw text and transport metadata of the message a row came from.
        Raises OSError or ValueError when its file cannot be read."""
        return self._reread.message_raw(index)

    def raw(self, index: int) -> str:
        """The raw text of a row's message ('' when it cannot be re-read)."""
        return self._reread.raw(index)

    def load(self, index: int) -> Decoded:
        """The row's input decoded again (re-read from its file or memory, a small LRU cache).
        Never raises: when the file cannot be read the result is a DecodeError saying why."""
        return self._reread.load(index)

    # ------------------------------------------------------------------ stats and changes

    def stats(self) -> Stats:
        """Totals as plain integers, per function and per source."""
        functions: dict[str, FunctionStats] = {}
        invocations = self.graph.invocations
        invocations_succeeded = self.graph.invocations_succeeded
        for number, name in enumerate(self.names.functions.strings):
            count = self._fn_records[number] if number < len(self._fn_records) else 0
            seen = invocations[number] if number < len(invocations) else 0
            if count or seen:
                succeeded = self._fn_succeeded[number] if count else 0
                seen_succeeded = invocations_succeeded[number] if seen else 0
                functions[name] = FunctionStats(name, count, succeeded, count - succeeded, seen, seen_succeeded)
        sources = {name: self._source_records[number] for number, name in enumerate(self.names.sources.strings)}
        return Stats(
            records=len(self),
            succeeded=self._succeeded,
            failed=self._failed,
            undecodable=self._undecodable,
            duplicates=self._duplicates,
            flows=len(self.graph.order),
            functions=functions,
            sources=sources,
            failed_nested=len(self.graph.nested_failures),
        )

    def rate(self, seconds: int = 60, now: float | None = None) -> list[int]:
        """Rows added per second over the last `seconds` seconds, oldest first (the last is now)."""
        end = int(self.clock() if now is None else now)
        return [self._rate.get(second, 0) for second in range(end - seconds + 1, end + 1)]

    def drain_changes(self) -> Changes:
        """What changed since the previous call (poll it every ~100 ms and refresh once)."""
        end = len(self)
        changes = Changes(
            version=self.version,
            new_rows=range(self._drained_rows, end),
            flows=frozenset(self.graph.changed),
            duplicates=self._new_duplicates,
        )
        self._drained_rows = end
        self.graph.changed = set()
        self._new_duplicates = 0
        return changes

    def functions(self) -> list[str]:
        """Names of the functions that have rows, sorted."""
        return sorted(
            self.names.functions.strings[number] for number in range(len(self._fn_records)) if self._fn_records[number]
        )

    def sources(self) -> list[str]:
        """Names of the sources seen, in order of first arrival."""
        return list(self.names.sources.strings)

    # ------------------------------------------------------------------ save, memory

    def save(self, path: str | Path, rows: Iterable[int] | None = None) -> int:
        """Write the rows' messages (all rows by default) as a session file (JSON Lines) that
        replays to the same records; returns the number of lines written. See
        `records.store.saving.save_session`."""
        return save_session(Path(path), rows, self.columns, self.names, self.raws, self._lock)

    def memory(self) -> dict[str, int]:
        """Approximate bytes held, by part (for the benchmark and a status line)."""
        return {
            "rows": self.columns.nbytes(),
            "flows": self.graph.nbytes(),
            "strings": sum(interner.nbytes() for interner in self.names.all()),
            "dedupe": sys.getsizeof(self._message_ids) + 32 * len(self._message_ids),
            "raw_in_memory": self.raws.memory_bytes(),
        }

    def close(self) -> None:
        """Close the files opened for re-reading."""
        with self._lock:
            self.raws.close()
            self._reread.clear()

    def __iter__(self) -> Iterator[RowSummary]:
        """Every row's summary, oldest first."""
        for index in range(len(self)):
            yield self.row(index)


_KINDS = {0: "async-invocation", STREAM: "stream-failure", DEAD_LETTER: "dead-letter"}
_FILE_LINE = re.compile(r"^(file:.*?)(?::\d+|\[\d+\])$")


def _source_label(source: str) -> str:
    """`file:x.jsonl:17` -> `file:x.jsonl`: a file is one source, not one per line."""
    if not source.startswith("file:"):
        return source
    head, _, tail = source.rpartition(":")
    if len(head) >= 5 and tail.isdecimal() and tail.isascii():  # the common `file:NAME:LINE`, no regex
        return head
    match = _FILE_LINE.match(source)
    return match.group(1) if match else source


def _grow(column: array[int], size: int) -> None:
    while len(column) < size:
        column.append(0)
