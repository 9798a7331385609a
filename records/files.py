"""Reading record files, streaming and bounded, so any file is read in linear time and bounded memory.

Read: one JSON document, a JSON array of documents, JSON Lines, several concatenated (pretty
printed) documents, `.gz` of any of these, and folders of such files (S3 failure-destination
objects have no extension, so every non-hidden file in a folder is read). Text that is not JSON is
read line by line: each line is an input (which then does not decode, with its reason).

Limits and faults (each becomes an input carrying a sentence, never an exception, and the next
input or file is read):
  - a line or JSON value longer than `max_record_bytes()` (4 MB by default, the
    LAMBDEST_TUI_MAX_RECORD_BYTES variable changes it) is refused; an over-long line is skipped to
    its end without being held, an over-long JSON value ends the reading of its file;
  - a file whose start is binary (a NUL byte, or mostly bytes that are not text) is reported once;
  - a truncated or corrupt `.gz` keeps what was read before the damage;
  - from folders only regular files are read: named pipes, devices and sockets are named and
    skipped (never opened), and so are dangling symbolic links, symbolic link loops and folders
    that cannot be listed. A named pipe, a device or `-` named on the command line is streamed.

Writing (session and saved files) is in `records.session_file`; `SessionWriter`, `saved_line` and
`now_iso` are re-exported here for the modules that import them from here.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from records.decode import DEFAULT_CORRELATOR, Correlator, Decoded, DecodeError, decode, decode_parsed
from records.file_entries import Entry, entry_problem, iter_entries, iter_paths
from records.session_file import SessionWriter, now_iso, saved_line

__all__ = [
    "LIMIT_VARIABLE",
    "MAX_RECORD_BYTES",
    "SAVED_MARKER",
    "Entry",
    "RawItem",
    "SessionWriter",
    "iter_entries",
    "iter_paths",
    "max_record_bytes",
    "now_iso",
    "read_at",
    "read_entry",
    "read_file",
    "read_inputs",
    "read_stream",
    "saved_line",
]

SAVED_MARKER = b'{"lambdest":'
LINE_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".jsonlines"})
MAX_RECORD_BYTES = 4 * 1024 * 1024  # DESIGN.md "Limits": the async payload limit is 1 MB; envelopes add little
LIMIT_VARIABLE = "LAMBDEST_TUI_MAX_RECORD_BYTES"
_CHUNK = 1 << 20
_SAMPLE = 8192  # bytes looked at to tell a binary file
_PREVIEW = 1000  # characters kept of an input that is refused
_RESYNC = 1 << 16  # how far a broken document looks for the next one
_COMPACT = 1 << 16  # read text dropped from the scanner's buffer past this
_VALUE_START = frozenset('{["-0123456789tfnNI')  # what a JSON value (Python's reader's) starts with
_NOT_TEXT = re.compile(r"[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
_SPACE = re.compile(r"[ \t\r\n]*")
_SPACE_COMMA = re.compile(r"[ \t\r\n,]*")


def max_record_bytes() -> int:
    """The largest line or JSON value read as one input: LAMBDEST_TUI_MAX_RECORD_BYTES, else 4 MB."""
    value = os.environ.get(LIMIT_VARIABLE, "")
    try:
        limit = int(value)
    except ValueError:
        return MAX_RECORD_BYTES
    return limit if limit > 0 else MAX_RECORD_BYTES


def _size(count: int) -> str:
    if count >= 1 << 20 and count % (1 << 20) == 0:
        return f"{count >> 20} MB"
    return f"{count:,} bytes"


@dataclass(slots=True)  # not frozen: treat as immutable; frozen init costs ~1 µs an item
class RawItem:
    """One input read from a file, not yet decoded."""

    data: str | Any  # the raw text, or an already parsed JSON value (array elements)
    label: str  # `file`, `file:line` or `file[index]`
    raw: str | None = None  # the raw text when `data` is parsed
    meta: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None  # where a saved message was originally received
    received: str | None = None
    # Where the line lies in the file (bytes), for re-reading it on demand; None when not seekable.
    offset: int | None = None
    length: int | None = None
    # Why this input was not read as a record (a file that cannot be read, a line over the limit...);
    # `data` then holds what can be shown of it.
    error: str | None = None

    def decode(self, correlator: Correlator = DEFAULT_CORRELATOR) -> list[Decoded]:
        if self.error is not None:
            return [Decoded(DecodeError(self.error), str(self.data), (), dict(self.meta))]
        if self.raw is None:
            return decode(self.data, meta=self.meta, correlator=correlator)
        return decode_parsed(self.data, self.raw, meta=self.meta, correlator=correlator)


def _refused(label: str, error: str, shown: str = "") -> RawItem:
    return RawItem(shown, label, error=error)


def _unwrap_saved(text: str, label: str, offset: int | None, length: int | None) -> RawItem:
    try:
        saved = json.loads(text)
    except (ValueError, RecursionError):  # ValueError: also an integer of more than 4300 digits
        return RawItem(text, label, offset=offset, length=length)
    if not isinstance(saved, dict) or not isinstance(saved.get("raw"), str):
        return RawItem(text, label, offset=offset, length=length)
    meta_value = saved.get("meta")
    meta: dict[str, Any] = meta_value if isinstance(meta_value, dict) else {}
    return RawItem(
        saved["raw"],
        label,
        meta=meta,
        source=saved.get("source"),
        received=saved.get("received"),
        offset=offset,
        length=length,
    )


def read_entry(entry: Entry, limit: int | None = None) -> Iterator[RawItem]:
    """Every input of one entry; an entry that is not read is one input carrying its problem."""
    if entry.problem is not None:
        yield _refused(str(entry.path), entry.problem)
        return
    yield from read_file(entry.path, limit=limit, named=entry.named)


def read_file(path: str | os.PathLike[str], *, limit: int | None = None, named: bool = False) -> Iterator[RawItem]:
    """Every input in one file, in order, streaming. A file that cannot be opened, or (unless
    `named` on the command line) is not a regular file, is one input carrying the reason."""
    path = Path(path)
    if not named:
        problem = entry_problem(path)
        if problem is not None:
            yield _refused(str(path), problem)
            return
    try:
        # O_NONBLOCK: a file swapped for a named pipe after the check above never blocks the open
        flags = os.O_RDONLY | os.O_CLOEXEC | (0 if named else os.O_NONBLOCK | os.O_NOCTTY)
        fd = os.open(path, flags)
    except OSError as exc:
        yield _refused(str(path), f"{path} cannot be read ({exc.strerror or exc})")
        return
    try:
        if not named and not stat.S_ISREG(os.fstat(fd).st_mode):
            yield _refused(str(path), f"{path} is not a regular file: skipped")
            return
        if not named:
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        try:
            yield from read_stream(handle, str(path), seekable=handle.seekable(), limit=limit)
        except OSError as exc:  # an I/O error part way
            yield _refused(str(path), f"{path} could not be read to its end ({exc.strerror or exc})")


# ----- one stream --------------------------------------------------------------------------------


class _GzipGuard(io.RawIOBase):
    """A gzip stream that ends (instead of raising) where its data is truncated or corrupt, and
    says why in `error`."""

    def __init__(self, compressed: IO[bytes], name: str) -> None:
        super().__init__()
        self._gzip = gzip.GzipFile(fileobj=compressed, mode="rb")
        self._name = name
        self.position = 0
        self.error: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.error is not None:
            return 0
        try:
            data = self._gzip.read1(len(buffer))  # read() would drop what it read before an error
        except EOFError:
            self.error = (
                f"{self._name}: the gzip data ends early (the file is truncated) after {self.position:,} "
                "bytes: the records before that were read"
            )
            return 0
        except (gzip.BadGzipFile, zlib.error) as exc:
            self.error = (
                f"{self._name}: the gzip data is corrupt after {self.position:,} bytes ({exc}): "
                "the records before that were read, the rest of the file was not"
            )
            return 0
        count = len(data)
        buffer[:count] = data
        self.position += count
        return count


def read_stream(handle: IO[bytes], name: str, *, seekable: bool = False, limit: int | None = None) -> Iterator[RawItem]:
    """Every input in a binary stream (a file, a pipe, standard input), gzip or not."""
    limit = limit or max_record_bytes()
    buffered = handle if isinstance(handle, io.BufferedReader) else io.BufferedReader(cast(Any, handle))
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        guard = _GzipGuard(buffered, name)
        yield from _read_text(io.BufferedReader(guard, _CHUNK), name, False, limit)
        if guard.error is not None:
            yield _refused(name, guard.error)
        return
    yield from _read_text(buffered, name, seekable, limit)


def _binary_at(sample: bytes) -> str | None:
    """Why the start of a stream is binary data, not text (None when it looks like text)."""
    nul = sample.find(b"\x00")
    if nul >= 0:
        return f"a NUL byte at byte {nul}"
    text = sample.decode("utf-8", errors="replace")
    bad = len(_NOT_TEXT.findall(text))
    if bad > 8 and bad * 10 > len(text):
        return f"{bad} of its first {len(sample):,} bytes are not text"
    return None


def _read_text(handle: io.BufferedReader, name: str, seekable: bool, limit: int) -> Iterator[RawItem]:
    sample = handle.peek(_SAMPLE)[:_SAMPLE]
    binary = _binary_at(sample)
    if binary is not None:
        shown = sample[:_PREVIEW].decode("utf-8", errors="backslashreplace")
        yield _refused(name, f"{name} holds binary data, not text records ({binary}): it was not read", shown)
        return
    stripped = sample.lstrip()
    first, first_line = stripped[:1], stripped.split(b"\n", 1)[0]
    if first == b"[":
        yield from _iter_array(handle, name, limit)
        return
    line_mode = first != b"{" or bool({suffix.lower() for suffix in Path(name).suffixes} & LINE_EXTENSIONS)
    if not line_mode:
        line_mode = _is_complete_json(first_line)
    if line_mode:
        yield from _iter_lines(handle, name, seekable, limit)
    else:
        yield from _iter_documents(handle, name, limit)


def _is_complete_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _iter_lines(handle: io.BufferedReader, name: str, seekable: bool, limit: int) -> Iterator[RawItem]:
    offset = 0
    number = 0
    readline = handle.readline
    while line := readline(limit + 1):
        number += 1
        length = len(line)
        where = f"{name}:{number}"
        if length > limit and line[-1:] != b"\n":  # over-long: skip to its end, holding none of it
            shown = line[:_PREVIEW].decode("utf-8", errors="backslashreplace") + "…"
            while line[-1:] != b"\n" and (line := readline(_CHUNK)):
                length += len(line)
            content = length - (1 if line[-1:] == b"\n" else 0)
            yield _refused(
                where,
                f"line {number} is {content:,} bytes long, over the {_size(limit)} limit for one record: skipped",
                shown,
            )
            offset += length
            continue
        stripped = line.strip()
        if stripped:
            position = offset if seekable else None
            size = length if seekable else None
            if stripped.startswith(SAVED_MARKER):
                yield _unwrap_saved(stripped.decode("utf-8", errors="backslashreplace"), where, position, size)
            else:
                try:
                    text = stripped.decode("utf-8")
                except UnicodeDecodeError:
                    yield RawItem(bytes(stripped), where, offset=position, length=size)
                else:
                    yield RawItem(text, where, offset=position, length=size)
        offset += length


# ----- JSON documents and arrays -------------------------------------------------------------------


class _TooLong(Exception):
    pass


class _Scanner:
    """Walks JSON values in a text stream chunk by chunk. It holds the unread rest of the current
    chunk, and never more than one value of at most `limit` characters besides."""

    def __init__(self, handle: IO[bytes], limit: int) -> None:
        self._reader = io.TextIOWrapper(handle, encoding="utf-8", errors="backslashreplace")
        self._decoder = json.JSONDecoder()
        self.limit = limit
        self.buffer = ""
        self.pos = 0  # where the unread text starts in `buffer`
        self.line = 1  # line number of buffer[pos]
        self.exhausted = False

    def refill(self) -> bool:
        if self.exhausted:
            return False
        chunk = self._reader.read(_CHUNK)
        if not chunk:
            self.exhausted = True
            return False
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def skip(self, pattern: re.Pattern[str]) -> str:
        """Pass characters the pattern matches; return the next character ('' at the end)."""
        while True:
            end = cast(re.Match[str], pattern.match(self.buffer, self.pos)).end()
            self.consume(end)
            if self.pos < len(self.buffer) or not self.refill():
                return self.buffer[self.pos : self.pos + 1]

    def consume(self, end: int) -> str:
        taken = self.buffer[self.pos : end]
        self.line += taken.count("\n")
        self.pos = end
        return taken

    def value(self, followers: str) -> tuple[Any, str] | str:
        """The next whole JSON value and its text, or why it cannot be read (also when the value
        is not followed by one of `followers` or the end: `2026-11-27` is no number). Raises
        _TooLong when the value is longer than the limit."""
        if self.pos > _COMPACT:  # a failed raw_decode counts lines from the buffer's start: keep it short
            self.buffer = self.buffer[self.pos :]
            self.pos = 0
        if self.buffer[self.pos : self.pos + 1] not in _VALUE_START:
            return "invalid JSON: expecting a value"
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # near the end of what is held, more text may complete the value
                more = exc.pos >= len(self.buffer) - 16 or exc.msg.startswith("Unterminated string")
                if more and self._grow():
                    continue
                return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            except ValueError as exc:  # e.g. an integer of more than 4300 digits
                return f"the JSON cannot be read: {exc}"
            except RecursionError:
                return "the JSON is nested too deeply to read"
            if end == len(self.buffer) and self._grow():
                continue  # a number cut at the chunk's end would parse short
            if end < len(self.buffer) and self.buffer[end] not in followers:
                return "invalid JSON: the value runs on into other text"
            return value, self.consume(end)

    def _grow(self) -> bool:
        if len(self.buffer) - self.pos > self.limit:
            raise _TooLong
        return self.refill()

    def broken(self) -> str:
        """For a value that cannot be read: the text up to the next line that starts with "{" when
        one starts within the next 64 KB (the next of several pretty-printed documents), else the
        rest of the line (at most `limit` characters of it kept, the rest of a longer line skipped)."""
        while len(self.buffer) - self.pos < _RESYNC and self.refill():
            pass
        found = self.buffer.find("\n{", self.pos, self.pos + _RESYNC)
        if found >= 0:
            return self.consume(found)
        while (newline := self.buffer.find("\n", self.pos)) < 0 and len(self.buffer) - self.pos <= self.limit:
            if not self.refill():
                break
        if newline >= 0:
            return self.consume(newline)
        kept = self.buffer[self.pos : self.pos + self.limit].rstrip()
        self.consume(len(self.buffer))
        while self.refill():  # skip the rest of an over-long line
            newline = self.buffer.find("\n")
            self.consume(newline if newline >= 0 else len(self.buffer))
            if newline >= 0:
                break
        return kept

    def too_long(self, label: str) -> RawItem:
        shown = self.buffer[self.pos : self.pos + _PREVIEW] + "…"
        return _refused(
            label,
            f"a JSON value at {label} is longer than the {_size(self.limit)} limit for one record: "
            "it and the rest of the file were not read",
            shown,
        )


def _iter_array(handle: IO[bytes], name: str, limit: int) -> Iterator[RawItem]:
    """Elements of a top-level JSON array, one at a time, without reading the whole array."""
    scanner = _Scanner(handle, limit)
    scanner.skip(_SPACE)
    scanner.consume(scanner.pos + 1)  # the opening bracket
    while scanner.skip(_SPACE_COMMA) not in ("", "]"):
        label = f"{name}:{scanner.line}"
        try:
            parsed = scanner.value(" \t\r\n,]")
        except _TooLong:
            yield scanner.too_long(label)
            return
        if isinstance(parsed, str):  # the rest is shown: the decoder explains what is wrong with it
            yield RawItem(scanner.buffer[scanner.pos : scanner.pos + limit], label)
            return
        yield RawItem(parsed[0], label, raw=parsed[1])


def _documents(scanner: _Scanner, name: str) -> Iterator[RawItem]:
    while scanner.skip(_SPACE):
        label = f"{name}:{scanner.line}"
        try:
            parsed = scanner.value(" \t\r\n{[")
        except _TooLong:
            yield scanner.too_long(label)
            return
        if isinstance(parsed, str):  # broken: on to the next document, or the next line
            broken = scanner.broken()
            yield RawItem(broken, label, error=parsed if parsed.startswith("the JSON") else None)
        else:
            yield RawItem(parsed[0], label, raw=parsed[1])


def _iter_documents(handle: IO[bytes], name: str, limit: int) -> Iterator[RawItem]:
    """One JSON document, or several written one after another (pretty-printed or not).
    A file holding a single document is labelled by its name alone, otherwise `name:line`."""
    documents = _documents(_Scanner(handle, limit), name)
    first = next(documents, None)
    second = next(documents, None)
    if first is not None and second is None:
        yield dataclasses.replace(first, label=name)
        return
    if first is not None:
        yield first
    if second is not None:
        yield second
    yield from documents


# ----- many files ------------------------------------------------------------------------------------


def read_inputs(paths: Iterable[str | os.PathLike[str]], limit: int | None = None) -> Iterator[RawItem]:
    """Every input in the files and folders named (a file's problems are inputs carrying them)."""
    for entry in iter_entries(paths):
        yield from read_entry(entry, limit)


def read_at(path: str | os.PathLike[str], offset: int, length: int) -> RawItem:
    """Re-read one line of a plain (not compressed) JSON Lines file, to show a payload on demand."""
    with Path(path).open("rb") as handle:
        handle.seek(offset)
        line = handle.read(length).strip()
    label = f"{path}@{offset}"
    if line.startswith(SAVED_MARKER):
        return _unwrap_saved(line.decode("utf-8", errors="backslashreplace"), label, offset, length)
    return RawItem(line.decode("utf-8", errors="backslashreplace"), label, offset=offset, length=length)
