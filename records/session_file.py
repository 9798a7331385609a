"""Writing session files: JSON Lines, one line per message received, holding the untouched raw
text and its transport metadata, so that a replay decodes exactly what was received:
    {"lambdest":1,"source":"queue:order-failures","received":"2026-...Z","meta":{...},"raw":"..."}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


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
