"""Linking records into flows, statuses, dedupe, stats and change notification (records.store)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.decode import Correlator
from records.message import Message
from records.store.record_store import RecordStore
from tests.factories import (
    arn,
    declined,
    happy_order,
    message,
    out_of_stock,
    record,
    request_id,
    sns,
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def only_flow(store: RecordStore) -> int:
    assert store.flow_count() == 1
    return store.flows()[0]


def test_happy_order_links_the_nested_order_stage() -> None:
    store = RecordStore()
    order, inventory = happy_order("A-1")
    assert store.ingest(message(sns(inventory), source="topic:order-notifications")) == 1

    flow = store.flow(only_flow(store))
    assert flow is not None
    assert flow.correlation_id == "A-1"
    assert flow.status == "completed"
    assert flow.functions == ("order", "update-inventory")
    first, second = flow.stages
    assert first.nested and first.row is None and first.succeeded
    assert first.request_id == order["requestContext"]["requestId"]
    assert not second.nested and second.row == 0
    assert second.parent_request_id == first.request_id
    assert flow.rows == (0,)
    summary = store.row(0)
    assert summary.flow_id == flow.id
    assert summary.parent_request_id == first.request_id
    assert summary.envelope == ("sns",)


def test_out_of_stock_is_rolled_back() -> None:
    store = RecordStore()
    _order, inventory, rollback = out_of_stock("B-2")
    store.ingest(message(sns(rollback)))

    flow = store.flow(only_flow(store))
    assert flow is not None
    assert flow.status == "rolled back"
    assert flow.functions == ("order", "update-inventory", "rollback-order")
    failed = flow.stages[1]
    assert failed.state == "failed" and failed.nested
    assert failed.attempts == 3
    assert failed.error_type == "OutOfStock"
    assert failed.condition == "RetriesExhausted"
    assert flow.stages[2].parent_request_id == inventory["requestContext"]["requestId"]


def test_failure_then_its_handler_arriving_later_turns_failed_into_rolled_back() -> None:
    store = RecordStore()
    _order, inventory, rollback = out_of_stock("B-3")
    store.ingest(message(inventory, source="queue:order-failures"))
    flow_id = only_flow(store)
    flow = store.flow(flow_id)
    assert flow is not None and flow.status == "failed"

    store.ingest(message(sns(rollback), source="topic:order-notifications"))
    flow = store.flow(only_flow(store))
    assert flow is not None
    assert flow.id == flow_id
    assert flow.status == "rolled back"
    inventory_stage = flow.stages[1]
    assert inventory_stage.function_name == "update-inventory"
    assert inventory_stage.row == 0 and not inventory_stage.nested  # its own record is a row
    assert flow.rows == (0, 1)


def test_declined_card_fails_after_retries() -> None:
    store = RecordStore()
    store.ingest(message(declined("C-4")))
    flow = store.flow(only_flow(store))
    assert flow is not None
    assert flow.status == "failed"
    (stage,) = flow.stages
    assert (stage.function_name, stage.condition, stage.attempts, stage.error_type) == (
        "order",
        "RetriesExhausted",
        3,
        "CardDeclined",
    )
    row = store.row(0)
    assert row.outcome == "failed"
    assert row.error_message == "card declined for order C-4"


def test_records_arriving_out_of_order_link_through_request_ids_without_correlation() -> None:
    store = RecordStore()
    upstream = record("order", {"basket": ["x"]}, timestamp="2026-11-27T10:00:00.000Z")
    middle = record("update-inventory", upstream, succeeded=False, timestamp="2026-11-27T10:00:01.000Z")
    downstream = record("rollback-order", middle, timestamp="2026-11-27T10:00:02.000Z")
    store.ingest(message(downstream))
    store.ingest(message(upstream))
    store.ingest(message(middle))

    flow = store.flow(only_flow(store))
    assert flow is not None
    assert flow.correlation_id is None
    assert flow.functions == ("order", "update-inventory", "rollback-order")
    assert [stage.row for stage in flow.stages] == [1, 2, 0]
    assert not any(stage.nested for stage in flow.stages)
    assert flow.status == "rolled back"


def test_separate_flows_merge_when_a_record_joins_them() -> None:
    store = RecordStore()
    order_request = request_id()
    pending = store.expect(None, "order", order_request)
    other = store.ingest(message(record("order", {"orderId": "K"}, attempts=2)))
    assert other == 1
    assert store.flow_count() == 2
    by_correlation = store.flow_of(0)
    assert by_correlation is not None and by_correlation != pending

    order = record("order", {"orderId": "K"}, request=order_request)
    store.ingest(message(record("update-inventory", order)))
    assert store.flow_count() == 1
    merged = store.flow(by_correlation)
    assert merged is not None
    assert merged.id == pending  # the older flow absorbs the newer one
    assert merged.correlation_id == "K"
    assert sorted(merged.rows) == [0, 1]
    assert store.flows()[0] == pending
    assert by_correlation in store.drain_changes().flows


def test_expect_shows_awaiting_records_then_fills_in() -> None:
    clock = Clock()
    store = RecordStore(clock=clock)
    order, inventory = happy_order("T-1")
    flow_id = store.expect("T-1", "order", order["requestContext"]["requestId"])
    flow = store.flow(flow_id)
    assert flow is not None
    assert flow.status == "awaiting records"
    assert [(stage.function_name, stage.state) for stage in flow.stages] == [("order", "pending")]
    assert flow.first_seen == clock.now
    assert len(store) == 0

    store.ingest(message(sns(inventory)))
    flow = store.flow(flow_id)
    assert flow is not None
    assert store.flow_count() == 1
    assert flow.status == "completed"
    assert [(stage.function_name, stage.state, stage.nested) for stage in flow.stages] == [
        ("order", "succeeded", True),
        ("update-inventory", "succeeded", False),
    ]


def test_expect_without_request_id_drops_the_placeholder_once_the_function_shows_up() -> None:
    store = RecordStore()
    flow_id = store.expect("T-2", "order")
    flow = store.flow(flow_id)
    assert flow is not None and flow.stages[0].request_id is None
    _order, inventory = happy_order("T-2")
    store.ingest(message(inventory))
    flow = store.flow(flow_id)
    assert flow is not None
    assert flow.functions == ("order", "update-inventory")
    assert all(stage.state == "succeeded" for stage in flow.stages)


def test_expect_first_without_then_with_the_request_id_shows_one_pending_stage() -> None:
    store = RecordStore()
    order, inventory = happy_order("T-3")
    flow_id = store.expect("T-3", "order")
    assert store.expect("T-3", "order", order["requestContext"]["requestId"]) == flow_id
    flow = store.flow(flow_id)
    assert flow is not None
    assert [(stage.function_name, stage.state) for stage in flow.stages] == [("order", "pending")]
    assert flow.stages[0].request_id == order["requestContext"]["requestId"]
    store.ingest(message(inventory))
    flow = store.flow(flow_id)
    assert flow is not None and flow.status == "completed" and flow.functions == ("order", "update-inventory")


def test_redriven_failure_that_later_succeeds_is_completed() -> None:
    store = RecordStore()
    store.ingest(message(declined("R-1")))
    store.ingest(message(record("order", {"orderId": "R-1"}, timestamp="2026-11-27T11:00:00.000Z")))
    flow = store.flow(only_flow(store))
    assert flow is not None
    assert flow.status == "completed"
    assert [stage.state for stage in flow.stages] == ["failed", "succeeded"]


def test_same_record_twice_counts_once_whatever_the_envelope() -> None:
    store = RecordStore()
    value = declined("D-1")
    assert store.ingest(message(value, source="queue:order-failures")) == 1
    assert store.ingest(message(sns(value), source="topic:order-notifications")) == 0
    eventbridge = {
        "version": "0",
        "id": "e-1",
        "detail-type": "Lambda Function Invocation Result - Failure",
        "source": "lambda",
        "account": "123456789012",
        "time": "2026-11-27T10:00:00Z",
        "region": "us-east-1",
        "resources": [arn("order")],
        "detail": value,
    }
    assert store.ingest(message(eventbridge, source="bus:default")) == 0
    stats = store.stats()
    assert (stats.records, stats.failed, stats.duplicates) == (1, 1, 2)
    assert store.flow_count() == 1
    assert store.raws.memory_only(1) is None  # nothing is kept of a message that added no row

    again = dict(value, requestContext=dict(value["requestContext"], approximateInvokeCount=2))
    assert store.ingest(message(again)) == 1  # another attempt count is another record


def test_same_sqs_message_twice_counts_once_even_when_undecodable() -> None:
    store = RecordStore()
    meta = {"MessageId": "4f1c-aaaa"}
    assert store.ingest(message("not json at all", meta=meta)) == 1
    assert store.ingest(message("not json at all", meta=meta)) == 0
    assert store.ingest(message("not json at all", meta={"MessageId": "other"})) == 1
    stats = store.stats()
    assert (stats.records, stats.undecodable, stats.duplicates) == (2, 2, 1)


def test_lambda_sqs_event_with_several_records_gives_a_row_each() -> None:
    store = RecordStore()
    bodies = [declined("E-1"), declined("E-2")]
    event = {
        "Records": [
            {"eventSource": "aws:sqs", "messageId": f"m{n}", "body": json.dumps(body)} for n, body in enumerate(bodies)
        ]
    }
    assert store.ingest(message(event)) == 2
    assert [store.row(i).correlation_id for i in range(2)] == ["E-1", "E-2"]
    assert store.flow_count() == 2
    assert store.load(1).correlation_id == "E-2"


def test_undecodable_input_is_a_row_with_its_reason() -> None:
    store = RecordStore()
    store.ingest(message('{"orderId": "x"}', source="queue:orders"))
    row = store.row(0)
    assert not row.ok and row.outcome == "undecodable"
    assert row.kind is None and row.flow_id is None and row.function_name is None
    assert row.error_message is not None and "not an execution record" in row.error_message
    assert store.raw(0) == '{"orderId": "x"}'
    assert store.flow_count() == 0


def test_stream_failure_record_is_a_failed_row() -> None:
    store = RecordStore()
    value = {
        "version": "1.0",
        "timestamp": "2026-11-27T10:00:00.000Z",
        "requestContext": {
            "requestId": request_id(),
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 4,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "KinesisBatchInfo": {"shardId": "shardId-000000000000", "batchSize": 1},
    }
    store.ingest(message(value))
    row = store.row(0)
    assert (row.kind, row.succeeded, row.attempts, row.error_type) == ("stream-failure", False, 4, "Unhandled")
    flow = store.flow(only_flow(store))
    assert flow is not None and flow.status == "failed"


def test_stats_rates_and_changes() -> None:
    clock = Clock(1_800_000_000.2)
    store = RecordStore(clock=clock)
    _o, inventory = happy_order("S-1")
    store.ingest(message(sns(inventory), source="topic:order-notifications"))
    failure = declined("S-2")
    store.ingest(message(failure))
    clock.now += 2
    store.ingest(message(declined("S-3")))
    store.ingest(message("][", source="queue:order-failures"))

    stats = store.stats()
    assert (stats.records, stats.succeeded, stats.failed, stats.undecodable) == (4, 1, 2, 1)
    assert all(isinstance(value, int) for value in (stats.records, stats.succeeded, stats.failed))
    assert stats.success_rate == 1 / 3
    assert stats.functions["order"].records == 2 and stats.functions["order"].failed == 2
    # order's success is only seen nested in update-inventory's record: an invocation, not a row
    assert (stats.functions["order"].invocations, stats.functions["order"].invocations_succeeded) == (3, 1)
    assert stats.functions["order"].success_rate == 1 / 3
    assert stats.functions["update-inventory"].success_rate == 1.0
    assert stats.sources == {"topic:order-notifications": 1, "queue:order-failures": 3}
    assert stats.flows == 3
    assert store.rate(4) == [0, 2, 0, 2]
    assert store.functions() == ["order", "update-inventory"]

    changes = store.drain_changes()
    assert changes.new_rows == range(4)
    assert len(changes.flows) == 3
    assert changes.version == store.version
    assert not store.drain_changes()
    store.ingest(message(failure))  # a duplicate
    changes = store.drain_changes()
    assert changes.duplicates == 1 and not changes.new_rows


def test_message_without_decoded_inputs_is_decoded_with_the_stores_correlator() -> None:
    store = RecordStore(correlator=Correlator(["customer.ref"]))
    raw = json.dumps(record("order", {"customer": {"ref": "cu-9"}}))
    store.ingest(Message(raw=raw, source="queue:q", received="2026-11-27T10:00:00.000Z"))
    assert store.row(0).correlation_id == "cu-9"
    assert store.load(0).correlation_id == "cu-9"


def _scenario_records(kind: str, order_id: str) -> list[dict[str, object]]:
    """The records a destination delivers for one order (what lambdest-tui receives)."""
    if kind == "good":
        return [happy_order(order_id)[1]]
    if kind == "out-of-stock":
        _order, inventory, rollback = out_of_stock(order_id)
        return [rollback, inventory]  # the failure record may also reach a queue directly
    return [declined(order_id)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(["good", "out-of-stock", "declined"]), min_size=1, max_size=6),
    seed=st.randoms(use_true_random=False),
    repeats=st.integers(min_value=1, max_value=3),
)
def test_flows_do_not_depend_on_arrival_order_or_duplicates(kinds: list[str], seed: Any, repeats: int) -> None:
    deliveries = []
    for number, kind in enumerate(kinds):
        deliveries += [(f"O-{number}", kind, value) for value in _scenario_records(kind, f"O-{number}")]
    expected_status = {"good": "completed", "out-of-stock": "rolled back", "declined": "failed"}
    expected_functions = {
        "good": ("order", "update-inventory"),
        "out-of-stock": ("order", "update-inventory", "rollback-order"),
        "declined": ("order",),
    }

    shuffled = deliveries * repeats
    seed.shuffle(shuffled)
    store = RecordStore()
    for _order_id, _kind, value in shuffled:
        store.ingest(message(sns(value), source="topic:order-notifications"))

    assert len(store) == len(deliveries)
    assert store.stats().duplicates == len(deliveries) * (repeats - 1)
    assert store.flow_count() == len(kinds)
    functions = store.stats().functions
    assert functions["order"].invocations == len(kinds)  # counted once, nested or not
    assert sum(stats.invocations for stats in functions.values()) == sum(
        len(expected_functions[kind]) for kind in kinds
    )
    flows = {flow.correlation_id: flow for flow in (store.flow(flow_id) for flow_id in store.flows()) if flow}
    for number, kind in enumerate(kinds):
        flow = flows[f"O-{number}"]
        assert flow.status == expected_status[kind]
        assert flow.functions == expected_functions[kind]
        assert len(flow.rows) == len(_scenario_records(kind, "x"))
        nested = {stage.function_name for stage in flow.stages if stage.nested}
        assert nested == {"order"} if kind != "declined" else nested == set()


def test_a_failure_seen_only_nested_is_counted_and_listed_where_it_happened() -> None:
    from records.store.views import RecordFilter, RecordView

    store = RecordStore()
    _order, inventory, rollback = out_of_stock("N-1")
    store.ingest(message(sns(rollback), source="topic:order-notifications"))
    store.ingest(message(declined("N-2"), source="queue:order-failures"))
    stats = store.stats()
    assert (stats.failed, stats.failed_nested, stats.failures) == (1, 1, 2)
    failed = RecordView(store, RecordFilter(outcome="failed"))
    assert list(failed.indices()) == [0, 1], "rollback-order's record is listed for the failure inside it"
    carried = store.row(0).nested_failures
    assert [(stage.function_name, stage.error_type, stage.nested) for stage in carried] == [
        ("update-inventory", "OutOfStock", True)
    ]
    assert list(RecordView(store, RecordFilter(outcome="succeeded")).indices()) == [0]
    # Its own record arriving later counts it once, as a failed record, and the carrier is let go.
    store.ingest(message(inventory, source="queue:order-failures"))
    stats = store.stats()
    assert (stats.failed, stats.failed_nested, stats.failures) == (2, 0, 2)
    assert store.row(0).nested_failures == ()
    assert list(RecordView(store, RecordFilter(outcome="failed")).indices()) == [1, 2]
