"""Messages workers post to the app (workers never touch widgets)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from records.sources.base import SourceEvent


class SourceEvents(Message):
    """A batch of events from the sources (messages and status changes), oldest first."""

    def __init__(self, events: Sequence[SourceEvent], ticket: object | None = None) -> None:
        super().__init__()
        self.events = events
        self.ticket = ticket  # released when handled (back-pressure for fast sources)


class SourcesFinished(Message):
    """Every source has ended (a replay read to its end)."""


class OrderSent(Message):
    def __init__(self, function: str, correlation_id: str | None, request_id: str) -> None:
        super().__init__()
        self.function = function
        self.correlation_id = correlation_id
        self.request_id = request_id


class OrderFailed(Message):
    def __init__(self, function: str, reason: str) -> None:
        super().__init__()
        self.function = function
        self.reason = reason
