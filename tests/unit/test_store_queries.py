"""The record screen's questions to the store (records.store.queries): stages, newest, diff target."""

from __future__ import annotations

from typing import Any

from records.store.queries import (
    comparison,
    flow_stages,
    nested_success,
    newest,
    ordered_stages,
)
from records.store.record_store import RecordStore
from tests.factories import declined, happy_order, message, out_of_stock, record


def _store(*bodies: dict[str, Any] | str) -> RecordStore:
    store = RecordStore()
    for body in bodies:
        store.ingest(message(body))
    return store


def test_flow_stages_in_order_with_the_rows_own_stage() -> None:
    _, inventory, rollback = out_of_stock("A-1")
    store = _store(inventory, rollback, "not json {")
    stages, current = flow_stages(store, 0)
    assert [stage.function_name for stage in stages] == ["order", "update-inventory", "rollback-order"]
    assert [stage.row for stage in stages] == [None, 0, 1]
    assert stages[0].nested and current == 1
    assert flow_stages(store, 1)[1] == 2
    assert flow_stages(store, 2) == ([], None)  # an undecodable row is in no flow


def test_equal_times_put_upstream_first() -> None:
    _, inventory, rollback = out_of_stock("A-2")
    rollback["timestamp"] = inventory["timestamp"]  # Lambda writes both in the same millisecond
    rollback["requestPayload"] = inventory
    store = _store(rollback)  # delivered alone: the failure is seen only nested
    flow = store.flow(store.flows()[0])
    assert flow is not None
    assert [stage.function_name for stage in ordered_stages(flow)] == ["order", "update-inventory", "rollback-order"]
    assert flow_stages(store, 0)[1] == 2


def test_newest_of_a_function_and_outcome() -> None:
    first = record("update-inventory", {"orderId": "A"}, timestamp="2026-11-27T10:00:01.000Z")
    failed = record("update-inventory", {"orderId": "B"}, succeeded=False)
    second = record("update-inventory", {"orderId": "C"}, timestamp="2026-11-27T10:00:02.000Z")
    store = _store(first, failed, second)
    assert newest(store, "update-inventory", "succeeded") == 2
    assert newest(store, "update-inventory", "failed") == 1
    assert newest(store, "order", "succeeded") is None


def test_comparison_marked_then_newest_of_the_other_outcome() -> None:
    good = record("update-inventory", {"orderId": "A"})
    bad = record("update-inventory", {"orderId": "B"}, succeeded=False)
    other = record("order", {"orderId": "C"})
    store = _store(good, bad, other, "not json {")
    failure = comparison(store, 1)
    assert failure.name == "newest success of this function"
    assert failure.decoded is not None and failure.decoded.record is not None
    assert failure.decoded.record.request_payload == {"orderId": "A"}
    success = comparison(store, 0)
    assert success.name == "newest failure of this function"
    assert success.decoded is not None and success.decoded.record is not None
    assert success.decoded.record.request_payload == {"orderId": "B"}
    marked = comparison(store, 1, marked=2)
    assert marked.name == "marked record" and marked.decoded is not None and marked.decoded.record is not None
    assert marked.decoded.record.function_name == "order"
    assert comparison(store, 2, marked=2).name == ""  # itself marked, and no failure of `order`
    assert comparison(store, 2).decoded is None
    assert comparison(store, 3).decoded is None  # undecodable: nothing to compare


def test_a_failure_compares_with_a_success_seen_only_nested() -> None:
    _, inventory = happy_order("A-3")  # order's success arrives only inside update-inventory's record
    store = _store(inventory, declined("A-4"))
    found = nested_success(store, "order")
    assert found is not None and found.record is not None
    assert found.record.function_name == "order" and found.record.succeeded
    assert found.record.request_payload == {"orderId": "A-3", "amount": 42}
    result = comparison(store, 1)
    assert result.name == "newest success of this function (nested in a downstream record)"
    assert result.decoded is not None and result.decoded.record == found.record
    assert nested_success(store, "order", limit=0) is None
    assert nested_success(store, "rollback-order") is None
