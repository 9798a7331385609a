"""Inputs read from record files as the `Message`s a replay sends (no AWS imports: a replay
worker process imports this).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from records.decode import Correlator, Decoded
from records.files import RawItem, now_iso
from records.message import Message

__all__ = [
    "message_fields",
    "message_from_item",
]


def message_from_item(
    item: RawItem, path: Path, correlator: Correlator, received: str | None = None, file: str | None = None
) -> Message:
    """One input read from a file as the `Message` a replay sends (decoded; with its place in the
    file when the file can be re-read at that place)."""
    return Message(*message_fields(item, path, correlator, received, file))


def message_fields(
    item: RawItem, path: Path, correlator: Correlator, received: str | None = None, file: str | None = None
) -> tuple[str, str, str, dict[str, Any], tuple[Decoded, ...], str | None, int | None, int | None]:
    """`message_from_item` as the `Message` fields, in order (without building the Message)."""
    decoded = tuple(item.decode(correlator))
    raw = item.raw if item.raw is not None else item.data if isinstance(item.data, str) else decoded[0].raw
    seekable = item.offset is not None
    return (
        raw,
        item.source or f"file:{item.label}",
        item.received or received or now_iso(),
        dict(item.meta) if item.meta else {},
        decoded,
        (file or str(path)) if seekable else None,
        item.offset,
        item.length,
    )
