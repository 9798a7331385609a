"""Dead-letter messages in the record store: rows of their function (from discovery, from the flow
of their request id, or "dead-letter message from QUEUE"), and "dead-lettered" on their flow's stage."""

from __future__ import annotations

import json
from typing import Any

from records.message import Message
from records.store import RecordStore
from tests.factories import declined, message, out_of_stock


def dead_letter(event: Any, request: str, *, message_id: str = "dlq-1", source: str = "queue:order-dlq") -> Message:
    """A message of a function's dead-letter queue as the SQS source receives it."""
    meta = {
        "MessageId": message_id,
        "Attributes": {"SentTimestamp": "1795773603500"},
        "MessageAttributes": {
            "RequestID": {"StringValue": request, "DataType": "String"},
            "ErrorCode": {"StringValue": "200", "DataType": "Number"},
            "ErrorMessage": {"StringValue": "card declined [red]x[/red]", "DataType": "String"},
        },
    }
    return message(json.dumps(event), source=source, meta=meta)


def test_a_dead_letter_message_of_a_known_queue_is_a_row_of_its_function() -> None:
    store = RecordStore()
    store.dead_letter_queue("arn:aws:sqs:us-east-1:123456789012:order-dlq", "order")
    assert store.ingest(dead_letter({"orderId": "ord-7"}, "req-7")) == 1
    row = store.row(0)
    assert (row.ok, row.kind, row.function_name, row.title) == (True, "dead-letter", "order", "order")
    assert (row.request_id, row.correlation_id, row.succeeded) == ("req-7", "ord-7", False)
    assert (row.condition, row.attempts, row.error_type) == ("dead-lettered", None, "ErrorCode 200")
    assert row.error_message == "card declined [red]x[/red]"  # kept as text, never markup
    assert row.dead_letter_queue == "queue:order-dlq"
    [flow_id] = store.flows()
    flow = store.flow(flow_id)
    assert flow is not None and flow.status == "failed" and flow.correlation_id == "ord-7"
    [stage] = flow.stages
    assert (stage.function_name, stage.state, stage.dead_lettered, stage.row) == ("order", "failed", True, 0)
    stats = store.stats()
    assert (stats.failed, stats.undecodable, stats.functions["order"].invocations) == (1, 0, 1)


def test_a_record_of_the_same_request_gives_it_its_function_and_its_stage() -> None:
    store = RecordStore()
    failure = declined("ord-8")
    request = failure["requestContext"]["requestId"]
    store.ingest(dead_letter(failure["requestPayload"], request))
    row = store.row(0)
    assert row.function_name is None and row.title == "dead-letter message from queue:order-dlq"
    [flow_id] = store.flows()
    flow = store.flow(flow_id)
    assert flow is not None
    assert [s.function_name for s in flow.stages] == ["dead-letter message from queue:order-dlq"]
    store.ingest(message(failure))  # the on-failure record: AWS sends both
    [flow_id] = store.flows()
    flow = store.flow(flow_id)
    assert flow is not None and flow.rows == (0, 1)
    [stage] = flow.stages
    assert (stage.function_name, stage.condition, stage.attempts, stage.row) == ("order", "RetriesExhausted", 3, 1)
    assert stage.dead_lettered
    assert store.row(0).function_name == "order"
    stats = store.stats()
    assert (stats.functions["order"].records, stats.functions["order"].invocations) == (2, 1)


def test_a_record_first_then_its_dead_letter_message() -> None:
    store = RecordStore()
    failure = declined("ord-9")
    store.ingest(message(failure))
    store.ingest(dead_letter(failure["requestPayload"], failure["requestContext"]["requestId"]))
    assert store.row(1).function_name == "order"  # from the flow it joins
    [flow_id] = store.flows()
    flow = store.flow(flow_id)
    assert flow is not None and len(flow.stages) == 1 and flow.stages[0].dead_lettered
    assert flow.stages[0].condition == "RetriesExhausted"
    assert store.stats().functions["order"].invocations == 1


def test_a_failure_seen_nested_names_the_function_of_its_dead_letter_message() -> None:
    store = RecordStore()
    _, inventory, rollback = out_of_stock("ord-10")
    store.ingest(dead_letter(inventory["requestPayload"], inventory["requestContext"]["requestId"]))
    store.ingest(message(rollback))  # rollback-order's record nests update-inventory's failure
    assert store.row(0).function_name == "update-inventory"
    flows = [store.flow(flow_id) for flow_id in store.flows()]
    assert len(flows) == 1 and flows[0] is not None
    dead = [stage for stage in flows[0].stages if stage.dead_lettered]
    assert [stage.function_name for stage in dead] == ["update-inventory"]


def test_the_same_message_twice_is_a_duplicate() -> None:
    store = RecordStore()
    store.dead_letter_queue("order-dlq", "order")
    assert store.ingest(dead_letter({"orderId": "ord-11"}, "req-11")) == 1
    assert store.ingest(dead_letter({"orderId": "ord-11"}, "req-11", message_id="dlq-2")) == 0
    assert store.stats().duplicates == 1


def test_a_jmespath_filter_sees_the_event_and_the_kind() -> None:
    from records.store.views import RecordFilter, RecordView

    store = RecordStore()
    store.ingest(dead_letter({"orderId": "ord-12"}, "req-12"))
    store.ingest(message(declined("ord-12")))
    view = RecordView(store, RecordFilter(jmespath="kind == 'dead-letter' && requestPayload.orderId == 'ord-12'"))
    assert list(view) == [0]
    assert list(RecordView(store, RecordFilter(text="ErrorCode 200"))) == [0]
