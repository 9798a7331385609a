"""Which files a list of paths names: the files named, and the entries of the folders named.

Only regular files are read from folders (DESIGN.md "Limits"): named pipes, devices and sockets
are named and skipped without being opened (opening a named pipe would block), and so are
dangling symbolic links, symbolic link loops, links to folders (not followed: one could lead to `/`
or back up into a loop) and folders that cannot be listed, each as an entry with a sentence, while
the rest is read. A path named on the command line is read whatever it is
(a named pipe or a device is streamed)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

__all__ = ["Entry", "entry_problem", "iter_entries", "iter_paths"]


class Entry(NamedTuple):
    """A file to read, or (with `problem`, a sentence) an entry that is not read and why.

    `named`: the path was named on the command line (a named pipe or a device is then streamed).
    """

    path: Path
    problem: str | None = None
    named: bool = False


_LINKED_FOLDER = "{folder} is a symbolic link to a folder ({target}): not followed (name that folder to read it)"


def _target(link: Path) -> str:
    try:
        return os.readlink(link)
    except OSError:
        return "?"


def entry_problem(path: Path) -> str | None:
    """Why a folder entry is not read, as a sentence (None for a regular file, or a link to one)."""
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path} is a symbolic link loop: skipped"
        if path.is_symlink():
            return f"{path} is a symbolic link to {_target(path)}, which does not exist: skipped"
        return f"{path} cannot be read ({exc.strerror or exc}): skipped"
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "not a regular file"
    return f"{path} is {kind}, not a regular file: skipped (only regular files are read from folders)"


def iter_entries(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Entry]:
    """The files named, and every non-hidden entry under the folders named, in a stable order.
    A symbolic link to a folder inside a folder is an entry with a problem: it is not followed."""
    for named in paths:
        path = Path(named)
        if not path.is_dir():
            yield Entry(path, named=True)
            continue
        yield from _walk(path)


def _walk(top: Path) -> Iterator[Entry]:
    problems: list[Entry] = []

    def unlistable(exc: OSError) -> None:
        where = exc.filename or top
        problems.append(
            Entry(Path(where), f"{where} is a folder that cannot be listed ({exc.strerror or exc}): skipped")
        )

    for root, dirs, files in os.walk(top, onerror=unlistable):  # links to folders are not followed
        yield from problems
        problems.clear()
        kept = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            folder = Path(root) / name
            if folder.is_symlink():  # it could lead anywhere (`/`, or back up: a loop)
                yield Entry(folder, _LINKED_FOLDER.format(folder=folder, target=_target(folder)))
                continue
            kept.append(name)
        dirs[:] = kept
        for file_name in sorted(files):
            if not file_name.startswith("."):
                path = Path(root) / file_name
                yield Entry(path, entry_problem(path))
    yield from problems


def iter_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The paths `iter_entries` yields (problem entries included: `read_file` reports them)."""
    for entry in iter_entries(paths):
        yield entry.path
