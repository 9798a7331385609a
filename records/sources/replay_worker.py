"""An instant replay of local files, read and decoded in a worker process.

Decoding a record costs about as much as parsing its JSON, and storing it about as much again; in
one process they share the interpreter lock. Here a child process (`python -m
records.sources.replay_worker`, a plain subprocess: multiprocessing cannot start one under Textual,
whose stderr has no file descriptor) reads and decodes the files and writes each batch of messages
to its standard output as `records.facts.MessageFacts` (plain tuples, `marshal`ed: a fraction of
pickle's cost), while the caller's process only stores them.

"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import json
import marshal
import os
import pickle
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, cast

from records.decode import Correlator
from records.facts import GC_THRESHOLDS, FactMaker, MessageFacts
from records.files import iter_entries, now_iso, read_entry
from records.sources.file_messages import message_fields

__all__ = [
    "FactsProcess",
    "main",
    "produce",
]

_BATCH = b"M"  # a marshalled batch
_PICKLED = b"P"  # a pickled batch (a message whose metadata marshal cannot hold)
_FAILED = b"F"  # a reason follows (UTF-8)
_END = b"E"
_HEADER = struct.Struct("!cI")  # kind, length of what follows
PIPE_BYTES = 1 << 20  # about eight batches (Linux's default limit for an unprivileged process)


def _frame(kind: bytes, body: bytes = b"") -> bytes:
    return _HEADER.pack(kind, len(body)) + body


def _encode(batch: list[MessageFacts]) -> bytes:
    try:
        return _frame(_BATCH, marshal.dumps(batch))
    except ValueError:
        return _frame(_PICKLED, pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))


def produce(path: str, expressions: Sequence[str], size: int, out: IO[bytes]) -> None:
    """The worker: write every message under `path` to `out` in batches of `size`, then the end."""
    correlator = Correlator(expressions)
    maker = FactMaker()
    try:
        for entry in iter_entries([path]):
            file = entry.path
            name = str(file)
            batch: list[MessageFacts] = []
            received = now_iso()
            for item in read_entry(entry):
                batch.append(maker.fields(*message_fields(item, file, correlator, received, name), keep_raw=False))
                if len(batch) >= size:
                    out.write(_encode(batch))
                    out.flush()
                    batch = []
                    received = now_iso()
            if batch:
                out.write(_encode(batch))
        out.write(_frame(_END))
    except OSError as exc:
        out.write(_frame(_FAILED, f"{path}: cannot be read ({exc.strerror or exc})".encode()))
    out.flush()


class FactsProcess:
    """The worker process for one path: `start()` it (the path must exist), `await next()` for each
    batch (a list of MessageFacts; a reason, str, when the file cannot be read or the process died;
    None at the end), and `close()` it (also before the end)."""

    def __init__(self, path: str, correlator: Correlator, batch: int = 500) -> None:
        self.path = path
        self.correlator = correlator
        self.batch = batch
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._done = False

    def start(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # where the `records` package is
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        task = json.dumps({"path": self.path, "expressions": list(self.correlator.expressions), "batch": self.batch})
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "records.sources.replay_worker", task],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._errors,  # never the terminal the UI draws on
            env=env,
        )
        if self._process.stdout is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
            # a deeper pipe lets the worker run batches ahead instead of waiting for each read
            with contextlib.suppress(OSError):
                fcntl.fcntl(self._process.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def _read(self) -> tuple[bytes, bytes] | None:
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        header = stream.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return None
        kind, length = _HEADER.unpack(header)
        body = stream.read(length)
        return (kind, body) if len(body) == length else None

    def _last_error(self) -> str:
        if self._errors is None:
            return ""
        self._errors.seek(0)
        lines = self._errors.read().decode(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""

    async def next(self) -> list[MessageFacts] | str | None:
        if self._done or self._process is None:
            return None
        try:
            frame = await asyncio.to_thread(self._read)
        except (OSError, ValueError):  # closed while waiting
            frame = None
            self._done = True
        if frame is None:
            self._done = True
            code = await asyncio.to_thread(self._process.wait)
            return f"{self.path}: the replay process ended early (exit code {code}){self._last_error()}"
        kind, body = frame
        if kind == _BATCH:
            return cast(list[MessageFacts], marshal.loads(body))
        if kind == _PICKLED:
            return cast(list[MessageFacts], pickle.loads(body))
        self._done = True
        return body.decode() if kind == _FAILED else None

    def close(self) -> None:
        self._done = True
        process = self._process
        if process is not None:
            if process.poll() is None:
                process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
            if process.stdout is not None:
                process.stdout.close()
        if self._errors is not None:
            self._errors.close()
            self._errors = None


def main(argv: Sequence[str]) -> int:
    gc.set_threshold(*GC_THRESHOLDS)  # decoding allocates (and frees) dozens of objects a record
    task = json.loads(argv[0])
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the pipe
    produce(task["path"], task["expressions"], task["batch"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
