"""The one protocol every live or replayed source follows.

A source is an async iterator of events: `Message` (something arrived, already decoded),
`SourceStatus` (connecting, live, reconnecting and why, failed and why, done), or `FactsBatch`
(many messages decoded elsewhere, as `records.facts.MessageFacts`: only a replay asked for them,
`ReplaySource(..., facts=True)`, sends these). Callers iterate it
and call `aclose()` when finished; a source removes whatever it created (tap queues, rules,
subscriptions) in `aclose()`, also when the iteration was cancelled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from records.facts import MessageFacts
from records.message import Message

Mode = Literal["peek", "consume", "tap", "replay"]
State = Literal["connecting", "live", "reconnecting", "failed", "done"]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    mode: Mode
    state: State
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FactsBatch:
    """Messages decoded in a worker process, in arrival order."""

    source: str
    messages: Sequence[MessageFacts]


SourceEvent = Message | SourceStatus | FactsBatch


@runtime_checkable
class Source(Protocol):
    label: str
    mode: Mode

    def __aiter__(self) -> AsyncIterator[SourceEvent]: ...

    async def aclose(self) -> None: ...
