"""Writing files that hold payloads: session files (appended as messages arrive) and saved files.

Payloads may hold anything (card numbers in the order system), so every file written here is
private: created 0600, in folders created 0700. A saved file is written through a private temporary
file next to it (`tempfile.mkstemp`: an unpredictable name, opened O_EXCL, so it never follows a
symbolic link) and renamed over its final name, so a failed save leaves any earlier file untouched.

A *session file* is JSON Lines, one line per message received, holding the untouched raw text and
its transport metadata, so that a replay decodes exactly what was received:
    {"lambdest":1,"source":"queue:order-failures","received":"2026-...Z","meta":{...},"raw":"..."}
A crash while a line was being written leaves a torn last line; `SessionWriter` ends it with a
newline before appending, so the torn fragment stays one undecodable line of its own and the next
message is a whole line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "SessionWriter",
    "new_session_path",
    "now_iso",
    "open_private_append",
    "private_folder",
    "replace_privately",
    "saved_line",
    "session_dir",
]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def now_iso() -> str:
    """Now in UTC as ISO 8601 with milliseconds and a Z (the `received` of a session-file line)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def saved_line(raw: str, meta: Mapping[str, Any], source: str | None, received: str | None = None) -> bytes:
    """One session-file line (with its newline) for a message as it was received: the untouched
    `raw` text, its transport `meta` and the `source` label; `received` defaults to `now_iso()`."""
    line = {
        "lambdest": 1,
        "source": source,
        "received": received or now_iso(),
        "meta": dict(meta),
        "raw": raw,
    }
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"


def private_folder(path: str | os.PathLike[str]) -> Path:
    """Create `path` and its missing parents with mode 0700 (folders that exist are left as they are)."""
    folder = Path(path)
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=FOLDER_MODE)
            created.chmod(FOLDER_MODE)  # mkdir's mode is masked by the umask
    return Path(path)


def open_private_append(path: str | os.PathLike[str]) -> BinaryIO:
    """Open `path` for appending (binary); a new file is created 0600, in folders created 0700.
    A file that exists keeps its mode. Raises OSError (also when `path` is not a regular file)."""
    target = Path(path)
    private_folder(target.parent)
    try:  # O_NONBLOCK: a named pipe without a reader fails at once instead of blocking
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(exc.errno, f"{target} is not a regular file") from exc
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{target} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def replace_privately(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write a file through a private temporary file in its folder, renamed over `path` when the
    block ends without an exception (and deleted when it does not). The new file is 0600 whatever
    mode an earlier file of that name had; a symbolic link at `path` is replaced, not followed."""
    target = Path(path)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _end_torn_line(handle: BinaryIO, path: Path) -> None:
    """A file whose last byte is not a newline was cut mid-line (a crash while writing): end that
    line, so the fragment stays a line of its own and is never glued to the next message."""
    size = handle.tell()
    if size == 0:
        return
    with path.open("rb") as reader:
        reader.seek(size - 1)
        last = reader.read(1)
    if last not in (b"\n", b""):
        handle.write(b"\n")
        handle.flush()
        os.fsync(handle.fileno())


class SessionWriter:
    """Appends received messages to a session file. `sync()` makes what was written durable:
    a consumer deletes messages from their queue only after `sync()` returned.

    Opens `path` with `open_private_append` (raises OSError) and ends a torn last line first.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle = open_private_append(self.path)
        self._handle.seek(0, os.SEEK_END)
        _end_torn_line(self._handle, self.path)
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
        """Flush and fsync what was appended."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Sync and close the file (again: nothing happens)."""
        if not self._handle.closed:
            self.sync()
            self._handle.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def session_dir() -> Path:
    """Where session files go by default: `lambdest-tui/sessions` in platformdirs' user state
    directory ($XDG_STATE_HOME or ~/.local/state on Linux)."""
    from platformdirs import user_state_path

    return user_state_path("lambdest-tui") / "sessions"


def new_session_path(kind: str) -> Path:
    """A new, timestamped session file name in `session_dir()` (`saved-20261201T064500Z-4242.jsonl`)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return session_dir() / f"{kind}-{stamp}-{os.getpid()}.jsonl"
