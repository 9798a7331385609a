"""Re-reading what a row's message said: from its file (offset, length) or from memory, with a small LRU cache."""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

from records.decode import Correlator, Decoded, DecodeError, decode
from records.files import SAVED_MARKER, saved_line
from records.store.columns import Columns
from records.store.rows import NONE
from records.store.strings import Interner

__all__ = ["LruCache", "RawStore", "Rereader", "unwrap_line"]


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
        # a ring of (message number, raw, meta) for the latest file-backed messages
        self._recent: list[tuple[int, str, Mapping[str, Any]] | None] = [None] * max(0, recent)
        self._handles: OrderedDict[int, IO[bytes]] = OrderedDict()
        self._handle_limit = open_files

    def remember(self, message: int, raw: str | None, meta: Mapping[str, Any], has_file: bool) -> None:
        """`raw` None: not kept (only for a message that has a file)."""
        if not has_file:
            self._memory[message] = (raw or "", meta)
            return
        if self._recent and raw is not None:
            self._recent[message % len(self._recent)] = (message, raw, meta)

    def in_memory(self, message: int) -> tuple[str, Mapping[str, Any]] | None:
        held = self._memory.get(message)
        if held is not None or not self._recent:
            return held
        recent = self._recent[message % len(self._recent)]
        return (recent[1], recent[2]) if recent is not None and recent[0] == message else None

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

    def session_line(self, message: int, location: tuple[int, int, int], source: str | None, received: str) -> bytes:
        """A message as a session-file line: a line of a session file is copied byte for byte,
        anything else is wrapped with `saved_line`. Raises OSError or ValueError when its text is
        neither in memory nor readable."""
        held = self.memory_only(message)
        file, offset, length = location
        if held is None and file != NONE:
            try:
                line = self.read_line(file, offset, length).strip()
            except (OSError, ValueError):
                held = self.in_memory(message)
                if held is None:
                    raise
            else:
                if line.startswith(SAVED_MARKER):
                    return line + b"\n"
                raw, meta, _, _ = unwrap_line(line)
                return saved_line(raw, meta, source, received)
        if held is None:
            raise ValueError(f"the raw text of message {message} was not kept")
        return saved_line(held[0], held[1], source, received)

    def close(self) -> None:
        while self._handles:
            self._handles.popitem()[1].close()

    def memory_bytes(self) -> int:
        total = sys.getsizeof(self._memory)
        for raw, _meta in self._memory.values():
            total += sys.getsizeof(raw)
        return total


class LruCache:
    """A small least-recently-used cache (a dict keeps insertion order: the first key is the oldest)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[int, Any] = {}

    def get(self, key: int) -> Any:
        value = self._items.pop(key, None)
        if value is not None:
            self._items[key] = value
        return value

    def put(self, key: int, value: Any) -> None:
        if self.size <= 0:
            return
        items = self._items
        items.pop(key, None)
        items[key] = value
        if len(items) > self.size:
            del items[next(iter(items))]

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class Rereader:
    """A row's message read again (from memory or its file) and decoded again, with a small LRU
    cache of decoded messages. File reads and the cache take `lock` (a view may be scanned in a
    worker thread while rows arrive)."""

    def __init__(
        self,
        columns: Columns,
        raws: RawStore,
        correlator: Correlator,
        cache_size: int,
        lock: AbstractContextManager[object],
    ) -> None:
        self.columns = columns
        self.raws = raws
        self.correlator = correlator
        self._lock = lock
        self._cache = LruCache(cache_size)

    def message_raw(self, index: int) -> tuple[str, Mapping[str, Any]]:
        """The raw text and transport metadata of the message a row came from.
        Raises OSError or ValueError when its file cannot be read."""
        c = self.columns
        held = self.raws.in_memory(c.message[index])
        if held is not None:
            return held
        if c.file[index] == NONE:
            raise ValueError("the raw text of this message was not kept")
        with self._lock:
            line = self.raws.read_line(c.file[index], c.offset[index], c.length[index])
        raw, meta, _source, _received = unwrap_line(line)
        return raw, meta

    def raw(self, index: int) -> str:
        """The raw text of a row's message ('' when it cannot be re-read)."""
        try:
            return self.message_raw(index)[0]
        except (OSError, ValueError):
            return ""

    def load(self, index: int) -> Decoded:
        """The row's input decoded again (re-read from its file or memory). Never raises: when the
        file cannot be read the result is a DecodeError saying why."""
        c = self.columns
        message = c.message[index]
        with self._lock:
            decoded: tuple[Decoded, ...] | None = self._cache.get(message)
        if decoded is None:
            try:
                raw, meta = self.message_raw(index)
            except (OSError, ValueError) as exc:
                where = self.raws.files.get(c.file[index])
                reason = f"could not re-read this record from {where} at byte {c.offset[index]}: {exc}"
                return Decoded(DecodeError(reason), "")
            decoded = tuple(decode(raw, meta=meta, correlator=self.correlator))
            with self._lock:
                self._cache.put(message, decoded)
        sub = c.sub[index]
        if sub < len(decoded):
            return decoded[sub]
        return Decoded(DecodeError("the message no longer holds this record (did its file change?)"), decoded[0].raw)

    def clear(self) -> None:
        """Forget the decoded messages."""
        self._cache.clear()
