"""The UI-free session (tui.session): ingestion in slices, statuses, filters, pause, refresh pacing."""

from __future__ import annotations

import pytest

from records.message import Message
from records.sources.base import SourceStatus
from records.sources.replay import ReplaySource
from records.store.views import FilterError, RecordFilter
from tests.factories import declined, message, record
from tui.session import INGEST_CHUNK, Session


class Slot:
    def __init__(self) -> None:
        self.released = 0

    def release(self) -> None:
        self.released += 1


def _messages(count: int, start: int = 0) -> list[Message]:
    return [message(record("order", {"orderId": f"o-{n}"})) for n in range(start, start + count)]


def test_batches_are_stored_in_slices_and_their_slots_released() -> None:
    session = Session()
    slot = Slot()
    assert session.queue(_messages(3 * INGEST_CHUNK), slot) is True  # the caller starts draining
    assert session.queue(_messages(5, 1000)) is False  # already draining
    while session.drain():
        pass
    assert len(session.store) == 3 * INGEST_CHUNK + 5
    assert slot.released == 1 and session.batches_handled == 2
    assert session.queue(_messages(1, 2000)) is True  # drained: the next batch starts it again


def test_statuses_are_kept_and_failures_reported() -> None:
    reports: list[str] = []
    source = ReplaySource(["saved.jsonl"])
    session = Session([source], report=reports.append)

    def state() -> str:
        return session.statuses[source.label].state

    assert state() == "connecting"
    session.ingest([SourceStatus(source.label, "replay", "live")])
    assert state() == "live" and reports == []
    session.ingest([SourceStatus(source.label, "replay", "failed", "AccessDenied\x1b[31m")])
    assert state() == "failed"
    assert len(reports) == 1 and "AccessDenied" in reports[0] and "\x1b" not in reports[0]


def test_filters_and_a_bad_expression_keeps_the_view() -> None:
    session = Session()
    session.ingest([*_messages(3), message(declined("d-1"))])
    session.refresh()
    assert len(session.records) == 4
    session.set_filter(RecordFilter(outcome="failed"))
    assert session.record_filter.outcome == "failed" and len(session.records) == 1
    assert session.current_rows() == [3]
    with pytest.raises(FilterError):
        session.set_filter(RecordFilter(jmespath="items[?"))
    assert session.record_filter.outcome == "failed"
    session.set_filter(RecordFilter())
    assert session.current_rows() is None and len(session.records) == 4


def test_pause_counts_and_follow_shows() -> None:
    session = Session()
    session.ingest(_messages(2))
    assert session.refresh().new_records == 2
    session.set_paused(True)
    session.ingest(_messages(3, 10))
    refreshed = session.refresh()
    assert refreshed.new_records == 0 and session.records.pending == 3 and len(session.records) == 2
    session.set_paused(False)
    assert session.refresh().new_records == 3 and len(session.records) == 5


def test_refreshes_only_when_something_changed_or_a_second_passed() -> None:
    now = [1_800_000_000.0]
    session = Session(clock=lambda: now[0])
    assert session.due()
    session.refresh(totals_now=True)
    assert not session.due()  # nothing new, same second
    now[0] += 1
    assert session.due()  # ages change
    session.refresh()
    session.ingest(_messages(1))
    assert session.due()
    first, second = session.refresh(), session.refresh()
    assert second.serial == first.serial + 1  # each refresh is a new value for the bound reactive
    assert session.totals[0] == 0 and session.dirty  # totals at most every STATS_SECONDS; still due
    session.refresh(totals_now=True)
    assert session.totals[0] == 1
