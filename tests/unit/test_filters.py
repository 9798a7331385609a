"""Filtering the record store: outcome, function, source, free text, JMESPath; views (records.store.views)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from records.store.record_store import RecordStore
from records.store.views import FilterError, RecordFilter, RecordView, compile_jmespath
from tests.factories import declined, happy_order, message, out_of_stock, record, sns


@pytest.fixture
def store() -> RecordStore:
    store = RecordStore()
    _order, inventory = happy_order("F-1")
    store.ingest(message(sns(inventory), source="topic:order-notifications"))  # 0 succeeded
    store.ingest(message(declined("F-2"), source="queue:order-failures"))  # 1 failed order
    _order, _inventory, rollback = out_of_stock("F-3")
    store.ingest(message(sns(rollback), source="topic:order-notifications"))  # 2 succeeded rollback
    store.ingest(message('{"orderId": "F-4", "note": "hidden-in-raw"}', source="queue:order-failures"))  # 3 undecodable
    failed = record("update-inventory", {"orderId": "F-5"}, succeeded=False, error_type="Sandbox.Timedout")
    store.ingest(message(failed, source="queue:order-failures"))  # 4 failed update-inventory
    return store


def matches(store: RecordStore, **parts: object) -> list[int]:
    """Matching row indices, oldest first (views are newest first)."""
    return sorted(RecordView(store, RecordFilter(**parts)))  # type: ignore[arg-type]


def test_no_filter_is_every_row_newest_first(store: RecordStore) -> None:
    view = RecordView(store)
    assert not view.is_filtered
    assert list(view) == [4, 3, 2, 1, 0]
    assert view[0] == 4 and view[-1] == 0
    assert view.position_of(4) == 0 and view.position_of(0) == 4
    assert view.position_of(99) is None
    assert RecordView(store, RecordFilter()).is_filtered is False
    with pytest.raises(IndexError):
        view[5]


def test_outcome_function_and_source(store: RecordStore) -> None:
    assert matches(store, outcome="succeeded") == [0, 2]
    assert matches(store, outcome="failed") == [1, 2, 4]  # 2 carries update-inventory's failure (nested)
    assert matches(store, outcome="undecodable") == [3]
    assert matches(store, function="update-inventory") == [0, 4]
    assert matches(store, function="update-inventory", outcome="failed") == [4]
    assert matches(store, source="topic:order-notifications") == [0, 2]
    assert matches(store, source="topic") == [0, 2], "a contains match, not the exact label"
    assert matches(store, source="FAILURES") == [1, 3, 4]
    assert matches(store, source="no-such-source") == []
    assert matches(store, function="no-such-function") == []
    with pytest.raises(FilterError, match="unknown outcome"):
        RecordView(store, RecordFilter(outcome="maybe"))  # type: ignore[arg-type]


def test_free_text_over_summary_fields_and_raw_text(store: RecordStore) -> None:
    assert matches(store, text="CARD DECLINED") == [1]  # error message, any case
    assert matches(store, text="timedout") == [4]  # error type
    assert matches(store, text="f-3") == [2]  # correlation id
    assert matches(store, text="rollback") == [2]  # function name
    assert matches(store, text="not an execution record") == [3]  # the decoder's reason
    request = store.row(1).request_id
    assert request is not None
    assert matches(store, text=request[:8]) == [1]  # request id
    assert matches(store, text="hidden-in-raw") == [3]  # only in the raw text
    assert matches(store, text="hidden-in-raw", search_raw=False) == []
    assert matches(store, text="4242") == []


def test_raw_text_search_rereads_the_file(tmp_path: Path) -> None:
    from records.files import SessionWriter
    from records.message import Message

    store = RecordStore(cache_size=0, recent_raw=0)
    body = json.dumps(record("order", {"orderId": "Z-1", "note": "needle-in-payload"}))
    with SessionWriter(tmp_path / "s.jsonl") as writer:
        offset, length = writer.append(body, {}, "queue:q", "2026-11-27T10:00:00.000Z")
    store.ingest(Message(body, "queue:q", "2026-11-27T10:00:00.000Z", {}, (), str(writer.path), offset, length))
    assert matches(store, text="needle-in-payload") == [0]


def test_jmespath_over_wire_fields_and_derived_fields(store: RecordStore) -> None:
    assert matches(store, jmespath="requestContext.condition == 'RetriesExhausted'") == [1, 4]
    assert matches(store, jmespath="succeeded") == [0, 2]
    assert matches(store, jmespath="error_type == 'CardDeclined'") == [1]
    assert matches(store, jmespath="requestPayload.requestPayload.orderId == 'F-1'") == [0]
    assert matches(store, jmespath="contains(envelope, 'sns')") == [0, 2]
    assert matches(store, jmespath="ok == `false`") == [3]
    assert matches(store, jmespath="source == 'queue:order-failures' && ok") == [1, 4]
    assert matches(store, jmespath="correlation_id", outcome="failed") == [1, 2, 4]


def test_bad_jmespath_is_a_clear_error() -> None:
    with pytest.raises(FilterError) as caught:
        compile_jmespath("requestContext.[condition")
    message = str(caught.value)
    assert message.startswith("invalid JMESPath expression")
    assert "column" in message
    with pytest.raises(FilterError, match="invalid JMESPath expression"):
        RecordView(RecordStore(), RecordFilter(jmespath="foo ==="))
    with pytest.raises(FilterError, match="invalid JMESPath expression"):
        compile_jmespath("`{unterminated")


def test_jmespath_runtime_error_does_not_match_and_is_reported(store: RecordStore) -> None:
    view = RecordView(store, RecordFilter(jmespath="length(requestContext.approximateInvokeCount) > `0`"))
    assert len(view) == 0
    assert view.runtime_error is not None and "failed on row" in view.runtime_error


def test_chunked_scan_can_stop_and_resume(store: RecordStore) -> None:
    view = RecordView(store, RecordFilter(jmespath="!succeeded"), scan=False)
    assert len(view) == 0 and not view.complete
    steps = []
    for done, total in view.iter_scan(chunk=2):
        steps.append((done, total))
        if done >= 2:
            break
    assert steps == [(2, 5)]
    assert list(view) == [1]
    assert not view.scan(2, seconds=None) and view.scanned == 4
    finished = view.scan(2)
    assert finished and view.scanned == 5
    assert sorted(view) == [1, 3, 4]


def test_update_takes_in_new_rows_only(store: RecordStore) -> None:
    view = RecordView(store, RecordFilter(outcome="failed"))
    assert list(view) == [4, 2, 1]
    store.ingest(message(declined("F-6")))
    _order, inventory = happy_order("F-7")
    store.ingest(message(sns(inventory)))
    assert not view.complete
    assert view.update() == 1
    assert list(view) == [5, 4, 2, 1]
    assert view.position_of(5) == 0 and view.position_of(6) is None
    assert [row.correlation_id for row in view.rows(0, 2)] == ["F-6", "F-5"]
    assert list(view.indices()) == [1, 2, 4, 5]


def test_function_filter_matches_a_function_that_appears_later() -> None:
    store = RecordStore()
    view = RecordView(store, RecordFilter(function="order"))
    assert len(view) == 0
    store.ingest(message(declined("L-1")))
    view.update()
    assert list(view) == [0]


def test_text_filter_sees_strings_interned_after_it_was_made(store: RecordStore) -> None:
    view = RecordView(store, RecordFilter(text="brand-new", search_raw=False))
    assert len(view) == 0
    store.ingest(message(record("brand-new-function", {"orderId": "N-1"})))
    view.update()
    assert list(view) == [5]


def test_scan_stops_after_its_time_slice(store: RecordStore) -> None:
    for number in range(3000):
        store.ingest(message(declined(f"T-{number}")))
    view = RecordView(store, RecordFilter(jmespath="error_type == 'CardDeclined'"), scan=False)
    assert not view.scan(10_000, seconds=0.0)  # stops after its first slice of rows
    assert 0 < view.scanned < 10_000
    assert view.scan(10_000, seconds=None)
    assert len(view) == 3001


def test_a_worker_thread_can_scan_while_rows_arrive(store: RecordStore) -> None:
    import threading

    for number in range(500):
        store.ingest(message(declined(f"W-{number}")))
    view = RecordView(store, RecordFilter(jmespath="error_type == 'CardDeclined'", text="w-"), scan=False)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while not view.scan(50, seconds=None):
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    for number in range(500, 1000):
        store.ingest(message(declined(f"W-{number}")))
    worker.join(timeout=60)
    assert not worker.is_alive() and errors == []
    view.update()
    assert len(view) == 1000
    assert [store.row(index).correlation_id for index in view[:2]] == ["W-999", "W-998"]
