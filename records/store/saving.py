"""Saving a store's rows as a session file (JSON Lines) that replays to the same records."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from records.lines import iso_timestamp
from records.store.columns import Columns
from records.store.graph import Names
from records.store.raw import RawStore
from records.store.rows import NONE

__all__ = ["save_session"]


def save_session(
    target: Path,
    rows: Iterable[int] | None,
    columns: Columns,
    names: Names,
    raws: RawStore,
    lock: AbstractContextManager[object],
) -> int:
    """Write the messages of `rows` (all rows when None) as a session file that replays to the
    same records. A message is written once even when several of its rows are given. Returns
    the number of lines written.

    The file is written next to its final name and renamed into place at the end, so a failed
    save leaves any earlier file untouched. Raises ValueError for a file the store re-reads
    records from (saving over it would lose them) and OSError when a file cannot be read or
    written."""
    resolved = target.resolve()
    for number in range(len(raws.files)):
        name = raws.files.get(number)
        if name is not None and Path(name).resolve() == resolved:
            raise ValueError(f"{target} holds records of this session: save to another file")
    c = columns
    indices: Iterable[int] = range(len(c.flags)) if rows is None else sorted(set(rows))
    written = 0
    last_message = NONE
    partial = target.with_name(f".{target.name}.partial")
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:  # private
            for index in indices:
                message = c.message[index]
                if message == last_message:
                    continue
                last_message = message
                out.write(_saved_line(index, columns, names, raws, lock))
                written += 1
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _saved_line(
    index: int, columns: Columns, names: Names, raws: RawStore, lock: AbstractContextManager[object]
) -> bytes:
    c = columns
    source = names.sources.get(c.source[index])
    received = iso_timestamp(datetime.fromtimestamp(c.received[index], UTC))
    location = (c.file[index], c.offset[index], c.length[index])
    with lock:
        return raws.session_line(c.message[index], location, source, received)
