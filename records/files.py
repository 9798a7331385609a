"""Reading and writing record files, streaming, so a file of several GB is never loaded whole.

Read: one JSON document, a JSON array of documents, JSON Lines, several concatenated (pretty
printed) documents, `.gz` of any of these, and folders of such files (S3 failure-destination
objects have no extension, so every non-hidden file in a folder is read).

Write: a *session file* is JSON Lines, one line per message received, holding the untouched raw
text and its transport metadata, so that a replay decodes exactly what was received:
    {"lambdest":1,"source":"queue:order-failures","received":"2026-...Z","meta":{...},"raw":"..."}
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from records.decode import DEFAULT_CORRELATOR, Correlator, Decoded, decode, decode_parsed

SAVED_MARKER = b'{"lambdest":'
LINE_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".jsonlines"})
_CHUNK = 1 << 20


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

    def decode(self, correlator: Correlator = DEFAULT_CORRELATOR) -> list[Decoded]:
        if self.raw is None:
            return decode(self.data, meta=self.meta, correlator=correlator)
        return decode_parsed(self.data, self.raw, meta=self.meta, correlator=correlator)


def session_dir() -> Path:
    """Where session files go by default: `lambdest-tui/sessions` in platformdirs' user state
    directory ($XDG_STATE_HOME or ~/.local/state on Linux)."""
    from platformdirs import user_state_path

    return user_state_path("lambdest-tui") / "sessions"


def new_session_path(kind: str) -> Path:
    """A new, timestamped session file name in `session_dir()` (`saved-20261201T064500Z-4242.jsonl`)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return session_dir() / f"{kind}-{stamp}-{os.getpid()}.jsonl"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def saved_line(raw: str, meta: Mapping[str, Any], source: str | None, received: str | None = None) -> bytes:
    """One session-file line (with its newline) for a message as it was received."""
    line = {
        "lambdest": 1,
        "source": source,
        "received": received or now_iso(),
        "meta": dict(meta),
        "raw": raw,
    }
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"


def _unwrap_saved(text: str, label: str, offset: int | None, length: int | None) -> RawItem:
    try:
        saved = json.loads(text)
    except json.JSONDecodeError:
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


def _peek(handle: io.BufferedReader, size: int = 4096) -> bytes:
    """Up to `size` bytes from the stream's start without consuming them (works on pipes)."""
    peeked = handle.peek(size)
    return peeked[:size]


def _first_significant(handle: io.BufferedReader) -> tuple[bytes, bytes]:
    """The first non-whitespace byte and the first non-blank line, without consuming them."""
    stripped = _peek(handle).lstrip()
    return stripped[:1], stripped.split(b"\n", 1)[0]


def read_file(path: str | os.PathLike[str]) -> Iterator[RawItem]:
    """Every input in one file, in order, streaming."""
    path = Path(path)
    with path.open("rb") as handle:
        yield from read_stream(handle, str(path), seekable=handle.seekable())


def read_stream(handle: IO[bytes], name: str, *, seekable: bool = False) -> Iterator[RawItem]:
    """Every input in a binary stream (a file, a pipe, standard input), gzip or not."""
    buffered = handle if isinstance(handle, io.BufferedReader) else io.BufferedReader(cast(Any, handle))
    if _peek(buffered, 2) == b"\x1f\x8b":
        buffered = io.BufferedReader(cast(Any, gzip.GzipFile(fileobj=buffered, mode="rb")))
        seekable = False
    first, first_line = _first_significant(buffered)
    if first == b"[":
        yield from _iter_array(buffered, name)
        return
    line_mode = bool({suffix.lower() for suffix in Path(name).suffixes} & LINE_EXTENSIONS)
    if not line_mode and first == b"{":
        line_mode = _is_complete_json(first_line)
    if line_mode or not first:
        yield from _iter_lines(buffered, name, seekable)
    else:
        yield from _iter_documents(buffered, name)


def _is_complete_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _iter_lines(handle: IO[bytes], name: str, seekable: bool) -> Iterator[RawItem]:
    offset = 0
    for number, line in enumerate(handle, start=1):
        length = len(line)
        stripped = line.strip()
        if stripped:
            where = f"{name}:{number}"
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


def _text_chunks(handle: IO[bytes]) -> Iterator[str]:
    reader = io.TextIOWrapper(handle, encoding="utf-8", errors="backslashreplace")
    while chunk := reader.read(_CHUNK):
        yield chunk


class _Scanner:
    """Walks JSON values in a text stream chunk by chunk, keeping only the unread rest in memory."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._chunks = _text_chunks(handle)
        self._decoder = json.JSONDecoder()
        self.buffer = ""
        self.line = 1  # line number of buffer[0]
        self.exhausted = False

    def refill(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            self.exhausted = True
            return False
        self.buffer += chunk
        return True

    def skip(self, characters: str) -> str:
        """Drop leading characters from the set; return the next character ('' at the end)."""
        while True:
            index = 0
            while index < len(self.buffer) and self.buffer[index] in characters:
                index += 1
            self.consume(index)
            if self.buffer or not self.refill():
                return self.buffer[:1]

    def consume(self, count: int) -> str:
        taken = self.buffer[:count]
        self.line += taken.count("\n")
        self.buffer = self.buffer[count:]
        return taken

    def value(self) -> tuple[Any, str] | None:
        """The next whole JSON value and its text, or None when it is broken."""
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buffer)
            except json.JSONDecodeError:
                if not self.exhausted and self.refill():
                    continue
                return None
            if end == len(self.buffer) and not self.exhausted and self.refill():
                continue  # a number cut at the chunk's end would parse short
            return value, self.consume(end)

    def broken_line(self) -> str:
        """The rest of the current line, for a value that could not be read."""
        newline = self.buffer.find("\n")
        return self.consume(len(self.buffer) if newline < 0 else newline)


def _iter_array(handle: IO[bytes], name: str) -> Iterator[RawItem]:
    """Elements of a top-level JSON array, one at a time, without reading the whole array."""
    scanner = _Scanner(handle)
    scanner.skip(" \t\r\n")
    scanner.consume(1)  # the opening bracket
    while scanner.skip(" \t\r\n,") not in ("", "]"):
        label = f"{name}:{scanner.line}"
        try:
            parsed = scanner.value()
        except RecursionError:
            yield RawItem(scanner.broken_line(), label)
            return
        if parsed is None:
            yield RawItem(scanner.buffer, label)  # the decoder explains what is wrong with it
            return
        yield RawItem(parsed[0], label, raw=parsed[1])


def _iter_documents(handle: IO[bytes], name: str) -> Iterator[RawItem]:
    """One JSON document, or several written one after another (pretty-printed or not).
    A file holding a single document is labelled by its name alone, otherwise `name:line`."""
    scanner = _Scanner(handle)
    first: RawItem | None = None
    count = 0
    while scanner.skip(" \t\r\n"):
        label = f"{name}:{scanner.line}"
        try:
            parsed = scanner.value()
        except RecursionError:
            parsed = None
        item = RawItem(scanner.broken_line(), label) if parsed is None else RawItem(parsed[0], label, raw=parsed[1])
        count += 1
        if count == 1:
            first = item
            continue
        if first is not None:
            yield first
            first = None
        yield item
    if first is not None:
        yield RawItem(first.data, name, raw=first.raw)


def iter_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named, and every non-hidden file under the folders named, in a stable order."""
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for file_name in sorted(files):
                    if not file_name.startswith("."):
                        yield Path(root) / file_name
        else:
            yield path


def read_inputs(paths: Iterable[str | os.PathLike[str]]) -> Iterator[RawItem]:
    """Every input in the files and folders named."""
    for path in iter_paths(paths):
        yield from read_file(path)


def read_at(path: str | os.PathLike[str], offset: int, length: int) -> RawItem:
    """Re-read one line of a plain (not compressed) JSON Lines file, to show a payload on demand."""
    with Path(path).open("rb") as handle:
        handle.seek(offset)
        line = handle.read(length).strip()
    label = f"{path}@{offset}"
    if line.startswith(SAVED_MARKER):
        return _unwrap_saved(line.decode("utf-8", errors="backslashreplace"), label, offset, length)
    return RawItem(line.decode("utf-8", errors="backslashreplace"), label, offset=offset, length=length)


class SessionWriter:
    """Appends received messages to a session file. `sync()` makes what was written durable:
    a consumer deletes messages from their queue only after `sync()` returned."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("ab")
        self._offset = self._handle.tell()

    def append(
        self, raw: str, meta: Mapping[str, Any], source: str | None, received: str | None = None
    ) -> tuple[int, int]:
        """Write one message; returns its (offset, length) in the file."""
        line = saved_line(raw, meta, source, received)
        offset = self._offset
        self._handle.write(line)
        self._offset += len(line)
        return offset, len(line)

    def sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._handle.closed:
            self.sync()
            self._handle.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
