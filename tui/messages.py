"""Messages posted up: from the source workers to the app (workers never touch widgets), and from
the main screen to the app (the screen reads the session it was given and asks for the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

from records.sources.base import SourceEvent
from records.store.views import RecordFilter

if TYPE_CHECKING:
    from records.doctor.health import Health

__all__ = [
    "FilterChanged",
    "HealthRead",
    "MarkRecord",
    "OpenRecord",
    "OrderFailed",
    "OrderSent",
    "RedriveRecord",
    "Releasable",
    "SourceEvents",
    "SourcesFinished",
]


class Releasable(Protocol):
    """A back-pressure slot (`tui.workers.Ticket`): released once its batch is stored."""

    def release(self) -> None: ...


class SourceEvents(Message):
    """A batch of events from the sources (messages and status changes), oldest first."""

    def __init__(self, events: Sequence[SourceEvent], ticket: Releasable | None = None) -> None:
        super().__init__()
        self.events = events
        self.ticket = ticket  # released when handled (back-pressure for fast sources)


class SourcesFinished(Message):
    """Every source has ended (a replay read to its end)."""


@dataclass
class OrderSent(Message):
    """An asynchronous invoke was accepted: `request_id` is Lambda's id for it."""

    function: str
    correlation_id: str | None
    request_id: str


@dataclass
class OrderFailed(Message):
    """An asynchronous invoke was refused; `reason` says why."""

    function: str
    reason: str
    correlation_id: str | None = None  # the test order's id, when it has one


@dataclass
class OpenRecord(Message):
    """Open the record screen of the store row `index`."""

    index: int


@dataclass
class FilterChanged(Message):
    """Show the records `spec` matches."""

    spec: RecordFilter


@dataclass
class MarkRecord(Message):
    """Mark the store row `index` to diff other records against."""

    index: int


@dataclass
class RedriveRecord(Message):
    """Re-drive the request payload of the store row `index` (after asking)."""

    index: int


@dataclass
class HealthRead(Message):
    """The health poller's latest look at the watched functions (metrics and the doctor's findings)."""

    health: Health
