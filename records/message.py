"""What a source yields for one message: its raw text, where it came from, what it decoded to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from records.decode import Decoded

__all__ = ["Message"]


@dataclass(frozen=True, slots=True)
class Message:
    """One message as received, with what it decoded to (one or more records or errors)."""

    raw: str  # the untouched body text
    source: str  # e.g. "queue:order-failures", "topic:order-notifications", "bus:default", "file:x.jsonl"
    received: str  # ISO-8601 UTC with ms, when lambdest-tui received it
    meta: Mapping[str, Any] = field(default_factory=dict)  # MessageId, Attributes, MessageAttributes...
    decoded: tuple[Decoded, ...] = ()
    # Where the message was written in the session or replay file (for re-reading payloads on demand).
    file: str | None = None
    offset: int | None = None
    length: int | None = None
