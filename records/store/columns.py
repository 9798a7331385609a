"""The rows of the record store: one `array` per field (structure of arrays)."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

__all__ = ["Columns"]


class Columns:
    """The rows, one `array` per field (structure of arrays)."""

    __slots__ = (
        "attempts",
        "condition",
        "correlation",
        "envelope",
        "error_message",
        "error_type",
        "file",
        "flags",
        "function",
        "length",
        "message",
        "offset",
        "received",
        "request",
        "source",
        "sub",
        "timestamp",
    )

    def __init__(self) -> None:
        self.received = array("d")
        self.timestamp = array("d")  # NaN when unknown
        self.source = array("i")
        self.flags = array("B")
        self.function = array("i")
        self.condition = array("i")
        self.attempts = array("i")
        self.error_type = array("i")
        self.error_message = array("i")
        self.correlation = array("i")
        self.request = array("i")  # request id number (shared with the flow linker)
        self.envelope = array("i")
        self.message = array("i")  # which message the row came from (several rows may share one)
        self.sub = array("H")  # position of the row among its message's decoded inputs
        self.file = array("i")
        self.offset = array("q")
        self.length = array("i")

    def __len__(self) -> int:
        return len(self.flags)

    def arrays(self) -> Iterator[array[Any]]:
        for name in self.__slots__:
            yield getattr(self, name)

    def nbytes(self) -> int:
        return sum(column.itemsize * column.buffer_info()[1] for column in self.arrays())
