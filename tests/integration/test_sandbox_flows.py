"""The order system's flows end to end: exactly the records AWS would send, and they decode."""

from __future__ import annotations

import json
import time
from typing import Any

from records.decode import decode
from records.invoke import PRESETS
from records.models import AsyncInvocationRecord
from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import (
    TIME_FACTOR,
    mentions,
    receive_until,
    sns_message,
    subscribe_queue,
)

ACCOUNT = "123456789012"


def invoke(aws: dict[str, Any], payload: Any, function: str = "order") -> str:
    response = aws["lambda"].invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload))
    assert response["StatusCode"] == 202
    return str(response["ResponseMetadata"]["RequestId"])


def decoded_record(body: str, envelope: list[str]) -> AsyncInvocationRecord:
    [decoded] = decode(body)
    assert decoded.ok, decoded.error
    assert list(decoded.envelope) == envelope
    record = decoded.record
    assert isinstance(record, AsyncInvocationRecord)
    return record


def check_shape(record: dict[str, Any], function: str, condition: str, count: int) -> None:
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24
    context = record["requestContext"]
    assert context["functionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:$LATEST"
    assert context["condition"] == condition
    assert context["approximateInvokeCount"] == count
    assert record["responseContext"]["statusCode"] == 200
    assert record["responseContext"]["executedVersion"] == "$LATEST"
    assert ("functionError" in record["responseContext"]) == (condition != "Success")
    # decodes on its own too, as a raw SQS body would
    assert decode(json.dumps(record))[0].ok


def test_happy_order(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    inbox = subscribe_queue(aws, sandbox.arn("topic", "order-notifications"))
    request_id = invoke(aws, PRESETS["good"])
    body = receive_until(aws["sqs"], inbox, mentions(request_id))
    outer = sns_message(body)
    check_shape(outer, "update-inventory", "Success", 1)
    assert outer["responsePayload"]["status"] == "RESERVED"
    inner = outer["requestPayload"]  # order's success record, delivered to update-inventory as its event
    check_shape(inner, "order", "Success", 1)
    assert inner["requestContext"]["requestId"] == request_id
    assert inner["requestPayload"] == PRESETS["good"]
    assert inner["responsePayload"]["status"] == "PAID"
    record = decoded_record(body, ["sns"])
    assert record.succeeded and record.parent_request_id == request_id
    assert decode(body)[0].correlation_id == PRESETS["good"]["orderId"]


def test_out_of_stock_order_is_rolled_back(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    inbox = subscribe_queue(aws, sandbox.arn("topic", "order-notifications"), raw=True)
    request_id = invoke(aws, PRESETS["out-of-stock"])
    body = receive_until(aws["sqs"], inbox, mentions(request_id))
    rollback = json.loads(body)  # raw delivery: the body is the record
    check_shape(rollback, "rollback-order", "Success", 1)
    assert rollback["responsePayload"]["status"] == "REFUNDED"
    failure = rollback["requestPayload"]
    check_shape(failure, "update-inventory", "RetriesExhausted", 3)
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorType"] == "OutOfStock"
    assert "SKU-5" in failure["responsePayload"]["errorMessage"]
    order = failure["requestPayload"]
    check_shape(order, "order", "Success", 1)
    assert order["requestContext"]["requestId"] == request_id
    record = decoded_record(body, [])
    assert record.parent_request_id == failure["requestContext"]["requestId"]


def test_declined_order_lands_on_the_failure_queue(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    url = aws["sqs"].get_queue_url(QueueName="order-failures")["QueueUrl"]
    started = time.monotonic()
    request_id = invoke(aws, PRESETS["declined"])
    body = receive_until(aws["sqs"], url, mentions(request_id))
    # two back-offs, AWS's ~60 s and ~120 s scaled by the time factor, came before the record
    assert time.monotonic() - started >= (60 + 120) * TIME_FACTOR
    record = json.loads(body)
    check_shape(record, "order", "RetriesExhausted", 3)
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestPayload"] == PRESETS["declined"]
    assert record["responsePayload"]["errorType"] == "PaymentDeclined"
    decoded = decoded_record(body, [])
    assert decoded.error is not None and decoded.error.error_type == "PaymentDeclined"
    assert not decoded.succeeded


def test_retries_and_event_age_follow_the_config(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    client = aws["lambda"]
    shipped = client.get_function_event_invoke_config(FunctionName="order")
    url = aws["sqs"].get_queue_url(QueueName="order-failures")["QueueUrl"]
    try:
        client.update_function_event_invoke_config(FunctionName="order", MaximumRetryAttempts=0)
        request_id = invoke(aws, PRESETS["declined"])
        record = json.loads(receive_until(aws["sqs"], url, mentions(request_id)))
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        # An age of 60 s is reached before the first retry (after ~60 s): EventAgeExceeded after one try.
        client.update_function_event_invoke_config(
            FunctionName="order", MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60
        )
        request_id = invoke(aws, PRESETS["declined"])
        record = json.loads(receive_until(aws["sqs"], url, mentions(request_id)))
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert record["responseContext"]["functionError"] == "Unhandled"
        assert decode(json.dumps(record))[0].ok
    finally:
        client.put_function_event_invoke_config(
            FunctionName="order",
            MaximumRetryAttempts=shipped["MaximumRetryAttempts"],
            DestinationConfig=shipped["DestinationConfig"],
        )


def test_stats_count_what_happened(sandbox: Sandbox, aws: dict[str, Any]) -> None:
    before = sandbox.stats()
    invoke(aws, PRESETS["declined"])
    assert sandbox.wait_idle(15)
    after = sandbox.stats()
    assert after.accepted - before.accepted == 1
    assert after.attempts - before.attempts == 3
    assert after.retries - before.retries == 2
    assert after.failed - before.failed == 1
    assert after.delivered - before.delivered == 1
    assert after.delivery_failures == before.delivery_failures
