"""Filtering the record store: outcome, function, source, free text, and a JMESPath expression.

    view = RecordView(store, RecordFilter(outcome="failed", text="stock"))
    len(view); view[0]            # the newest matching row index
    view.update()                 # take in rows that arrived since (cheap: only new rows)

Cheap parts (outcome, function, source, text over the summary fields) work on the store's columns
and interned strings. Text also searches the raw message text when `search_raw` is set (re-read
from the file for rows that have one), and a JMESPath expression needs every candidate row
decoded again: both are slow on a big session, so drive them in chunks from a worker:

    view = RecordView(store, record_filter, scan=False)
    for done, total in view.iter_scan(chunk=2000):
        if cancelled: break

The JMESPath expression sees the record as it came on the wire (camelCase keys: `requestContext`,
`requestPayload`, `responsePayload`...) plus the derived fields of the `--format jsonl` contract
(`function_name`, `condition`, `succeeded`, `error_type`, `error_message`, `correlation_id`,
`parent_request_id`, `envelope`...), `source` and `ok`. An undecodable input is `{"ok": false,
"error": ..., "raw": ..., "source": ...}`. A row matches when the result is truthy in JMESPath's
sense (not null, false, or empty). An expression that fails at run time on a row (a type error in
a function) does not match that row; the first such error is kept in `view.runtime_error`.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

from records.lines import json_line
from records.store.rows import NONE, OK, OUTCOMES, SUCCEEDED, NewestFirst, Outcome, RowSummary
from records.store.strings import Interner, StringTable

if TYPE_CHECKING:
    from records.decode import Decoded
    from records.store.record_store import RecordStore

__all__ = ["SCAN_SECONDS", "FilterError", "RecordFilter", "RecordView", "compile_jmespath", "jmespath_document"]


SCAN_SECONDS = 0.05  # the longest a default `RecordView.scan()` call works
_SLICE = 256  # rows between two looks at the clock


class FilterError(ValueError):
    """A filter that cannot be used (a bad JMESPath expression, an unknown outcome); the message is
    a sentence to show as it is."""


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What to show. Every part set must match; None (or "") means no constraint."""

    outcome: Outcome | None = None
    function: str | None = None
    source: str | None = None  # case-insensitive substring of the source label
    text: str | None = None  # case-insensitive substring
    jmespath: str | None = None
    search_raw: bool = True  # the text search also looks into the raw message text

    @property
    def is_empty(self) -> bool:
        return not (self.outcome or self.function or self.source or self.text or self.jmespath)


def compile_jmespath(expression: str) -> ParsedResult:
    """Compile an expression or raise FilterError with a sentence saying what is wrong and where."""
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.ParseError as exc:
        column = getattr(exc, "lex_position", None)
        token = getattr(exc, "token_value", None)
        message = getattr(exc, "msg", None) or "it cannot be parsed"
        where = f" at column {column + 1}" if isinstance(column, int) else ""
        near = f" near {token!r}" if token not in (None, "") else ""
        raise FilterError(f"invalid JMESPath expression{where}{near}: {message}") from exc
    except jmespath.exceptions.JMESPathError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"invalid JMESPath expression: {first}") from exc


def jmespath_document(decoded: Decoded, source: str | None) -> dict[str, Any]:
    """What a JMESPath filter sees for one input (see the module doc)."""
    record = decoded.record
    if decoded.dead_letter is not None:  # the jsonl fields, the original event as requestPayload
        document = json_line(decoded, source or "")
        document["requestPayload"] = document.pop("request_payload")
        document.pop("input", None)
        document["source"] = source
        return document
    if record is None:
        return {"ok": False, "error": decoded.error, "raw": decoded.raw, "source": source}
    document = record.model_dump(mode="json", by_alias=True, exclude={"kind"})
    derived = json_line(decoded, source or "")
    derived.pop("request_payload", None)
    derived.pop("response_payload", None)
    derived.pop("input", None)
    document.update(derived)
    document["source"] = source
    return document


class _TextMatches:
    """Which strings of an interner contain the needle. A small Interner is searched once (and
    again for strings added since); a StringTable (a string a row or more) string by string."""

    __slots__ = ("_checked", "_interner", "_matched", "_needle")

    def __init__(self, interner: Interner | StringTable, needle: str) -> None:
        self._interner = interner
        self._needle = needle
        self._matched: set[int] = set()
        self._checked = 0

    def __contains__(self, number: int) -> bool:
        if number == NONE:
            return False
        if isinstance(self._interner, StringTable):
            return self._needle in (self._interner.get(number) or "").lower()
        if number >= self._checked:
            interner = self._interner
            needle = self._needle
            end = len(interner)
            for position in range(self._checked, end):
                if needle in (interner.get(position) or "").lower():
                    self._matched.add(position)
            self._checked = end
        return number in self._matched


class _Matcher:
    def __init__(self, store: RecordStore, record_filter: RecordFilter) -> None:
        self.store = store
        self.filter = record_filter
        if record_filter.outcome and record_filter.outcome not in OUTCOMES:
            raise FilterError(f"unknown outcome {record_filter.outcome!r}: use one of {', '.join(OUTCOMES)}")
        self.expression = compile_jmespath(record_filter.jmespath) if record_filter.jmespath else None
        self.needle = record_filter.text.lower() if record_filter.text else None
        self.text_sets: list[tuple[Any, _TextMatches]] = []
        if self.needle:
            c = store.columns
            self.text_sets = [
                (c.function, _TextMatches(store.names.functions, self.needle)),
                (c.condition, _TextMatches(store.names.conditions, self.needle)),
                (c.error_type, _TextMatches(store.names.error_types, self.needle)),
                (c.error_message, _TextMatches(store.names.error_messages, self.needle)),
                (c.correlation, _TextMatches(store.names.correlations, self.needle)),
                (c.request, _TextMatches(store.names.requests, self.needle)),
                (c.source, _TextMatches(store.names.sources, self.needle)),
            ]
        # the source filter is a contains match, any case (`topic` matches every topic)
        self.sources = _TextMatches(store.names.sources, record_filter.source.lower()) if record_filter.source else None
        self.runtime_error: str | None = None

    def _wanted(self, interner: Interner | StringTable, name: str | None) -> int | None:
        """The number of a wanted name; -2 when the name was never seen (so nothing matches yet)."""
        if not name:
            return None
        found = interner.find(name)
        return found if found != NONE else -2

    def match_range(self, start: int, stop: int, out: array[int]) -> None:
        store = self.store
        c = store.columns
        outcome = self.filter.outcome
        function = self._wanted(store.names.functions, self.filter.function)
        source = self.sources
        flags = c.flags
        carriers = store.graph.carriers
        for index in range(start, stop):
            if outcome is not None:
                bits = flags[index]
                if outcome == "undecodable":
                    if bits & OK:
                        continue
                elif outcome == "failed":
                    if not bits & OK or (bits & SUCCEEDED and index not in carriers):
                        continue  # listed for a failure seen only nested in it, too
                elif not bits & OK or not bits & SUCCEEDED:
                    continue
            if function is not None and c.function[index] != function:
                continue
            if source is not None and c.source[index] not in source:
                continue
            if self.needle is not None and not self._text(index):
                continue
            if self.expression is not None and not self._jmespath(index):
                continue
            out.append(index)

    def _text(self, index: int) -> bool:
        for column, matches in self.text_sets:
            if column[index] in matches:
                return True
        if not self.filter.search_raw:
            return False
        assert self.needle is not None
        return self.needle in self.store.raw(index).lower()

    def _jmespath(self, index: int) -> bool:
        assert self.expression is not None
        decoded = self.store.load(index)
        document = jmespath_document(decoded, self.store.names.sources.get(self.store.columns.source[index]))
        try:
            result = self.expression.search(document)
        except jmespath.exceptions.JMESPathError as exc:
            if self.runtime_error is None:
                self.runtime_error = f"the JMESPath expression failed on row {index}: {exc}"
            return False
        return result not in (None, False, "", [], {})


class RecordView(NewestFirst):
    """Row indices of a store matching a filter, newest first (`view[0]` is the newest match).

    Without a filter (or an empty one) the view is every row and always current. With a filter it
    holds the matches among the rows scanned so far; `update()` / `scan()` take in newer rows.
    With `scan=False` nothing is scanned yet: drive `view.scan(budget)` (or iterate
    `view.iter_scan()`) from a worker instead. Raises FilterError for a bad filter (e.g. a
    JMESPath syntax error)."""

    def __init__(self, store: RecordStore, record_filter: RecordFilter | None = None, *, scan: bool = True) -> None:
        self.store = store
        self.filter = record_filter if record_filter is not None and not record_filter.is_empty else None
        self._matcher = _Matcher(store, self.filter) if self.filter is not None else None
        self._indices = array("i")
        self._scanned = 0
        if scan:
            self.update()

    @property
    def is_filtered(self) -> bool:
        return self.filter is not None

    @property
    def scanned(self) -> int:
        """How many of the store's rows were looked at."""
        return len(self.store) if self._matcher is None else self._scanned

    @property
    def complete(self) -> bool:
        return self.scanned >= len(self.store)

    @property
    def runtime_error(self) -> str | None:
        return self._matcher.runtime_error if self._matcher else None

    def scan(self, budget: int, seconds: float | None = SCAN_SECONDS) -> bool:
        """Look at up to `budget` more rows, for at most about `seconds` (None: no time limit), so a
        call from the UI's event loop stays short even when rows must be re-read or decoded.
        True when every row of the store has been looked at."""
        if self._matcher is None:
            return True
        stop = min(len(self.store), self._scanned + max(1, budget))
        deadline = None if seconds is None else time.perf_counter() + seconds
        while self._scanned < stop:
            end = min(stop, self._scanned + _SLICE)
            self._matcher.match_range(self._scanned, end, self._indices)
            self._scanned = end
            if deadline is not None and time.perf_counter() > deadline:
                break
        return self._scanned >= len(self.store)

    def iter_scan(self, chunk: int = 5000) -> Iterator[tuple[int, int]]:
        """Scan in chunks, yielding (rows looked at, rows in the store) after each; stop any time."""
        while True:
            done = self.scan(chunk)
            yield self.scanned, len(self.store)
            if done:
                return

    def update(self) -> int:
        """Take in every row not looked at yet; returns how many new matches were found."""
        before = len(self)
        while not self.scan(1 << 16, seconds=None):
            pass
        return len(self) - before

    def __len__(self) -> int:
        return len(self.store) if self._matcher is None else len(self._indices)

    def _oldest_first(self, position: int) -> int:
        return position if self._matcher is None else self._indices[position]

    def position_of(self, index: int) -> int | None:
        """The position (newest first) of a row index in this view, or None when it is not in it."""
        size = len(self)
        if self._matcher is None:
            return size - 1 - index if 0 <= index < size else None
        found = bisect_left(self._indices, index)
        if found < len(self._indices) and self._indices[found] == index:
            return size - 1 - found
        return None

    def rows(self, start: int, stop: int) -> list[RowSummary]:
        """Summaries of the rows at positions start..stop-1 (newest first), for the lines on screen."""
        return [self.store.row(index) for index in self[start:stop]]

    def indices(self) -> Sequence[int]:
        """Matching row indices in ascending (arrival) order, e.g. for `store.save(path, rows=...)`."""
        return range(len(self.store)) if self._matcher is None else self._indices
