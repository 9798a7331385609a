"""Every documented record shape and envelope decodes to the right fields (golden files in tests/golden)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from records.files import read_inputs
from records.lines import json_line

GOOD = Path(__file__).parent.parent / "golden" / "good"


def lines_of(name: str) -> list[dict[str, Any]]:
    out = []
    for item in read_inputs([GOOD / name]):
        for decoded in item.decode():
            out.append(json_line(decoded, item.label))
    return out


def one(name: str) -> dict[str, Any]:
    lines = lines_of(name)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["ok"] is True, line
    return line


# file -> fields every decoded line must have
EXPECTED: dict[str, dict[str, Any]] = {
    "success.json": dict(
        kind="async-invocation",
        condition="Success",
        succeeded=True,
        function_name="order",
        qualifier="$LATEST",
        approximate_invoke_count=1,
        status_code=200,
        function_error=None,
        error_type=None,
        correlation_id="ord-1001",
        envelope=[],
        timestamp="2026-11-27T10:15:30.123Z",
    ),
    "retries_exhausted_unhandled.json": dict(
        condition="RetriesExhausted",
        succeeded=False,
        approximate_invoke_count=3,
        function_error="Unhandled",
        error_type="CardDeclined",
        error_message="Card 4000000000000002 was declined",
    ),
    "event_age_exceeded.json": dict(
        condition="EventAgeExceeded",
        succeeded=False,
        approximate_invoke_count=2,
        function_name="update-inventory",
        error_type="ServiceUnavailable",
    ),
    "zero_reserved_concurrency.json": dict(
        condition="ZeroReservedConcurrency",
        succeeded=False,
        approximate_invoke_count=0,
        status_code=None,
        function_error=None,
        response_payload=None,
        error_type=None,
    ),
    "timeout.json": dict(error_type="Sandbox.Timedout", function_error="Unhandled", succeeded=False),
    "out_of_memory.json": dict(error_type="Runtime.ExitError", succeeded=False),
    "handled_error.json": dict(function_error="Handled", error_type="OutOfStock", succeeded=False),
    "legacy_message_only_error.json": dict(
        error_type=None,
        error_message="RequestId: 7d6f2b1e-0008-4a7b-9c1d-000000000008 Process exited before completing request",
        function_error="Unhandled",
    ),
    "nested_lambda_destination.json": dict(
        function_name="rollback-order",
        succeeded=True,
        parent_request_id="5a1c9e00-0009-4d2e-8f00-000000000009",
        correlation_id="ord-1001",
    ),
    "payload_array.json": dict(request_payload=[1, 2, {"orderId": "ord-9"}], qualifier="3", correlation_id=None),
    "payload_string.json": dict(request_payload="hello", response_payload="HELLO", qualifier="live"),
    "payload_null.json": dict(request_payload=None, response_payload=None, succeeded=True),
    "payloads_dropped.json": dict(request_payload=None, response_payload=None, succeeded=True, status_code=200),
    "kinesis.json": dict(
        kind="stream-failure",
        condition="RetryAttemptsExhausted",
        function_name="stream-processor",
        qualifier=None,
        succeeded=False,
        function_error="Unhandled",
    ),
    "dynamodb.json": dict(kind="stream-failure", condition="RecordAgeExceeded", status_code=None),
    "kafka.json": dict(kind="stream-failure", condition="MaximumPayloadSizeExceeded", function_error=None),
    "kinesis_s3_payload.json": dict(kind="stream-failure", approximate_invoke_count=3),
    "sns_notification.json": dict(envelope=["sns"], function_name="update-inventory", succeeded=True),
    "sns_notification_lambda_spelling.json": dict(envelope=["sns"], function_name="update-inventory"),
    "sns_raw_delivery.json": dict(envelope=[], function_name="update-inventory"),
    "eventbridge_success.json": dict(envelope=["eventbridge"], function_name="order", succeeded=True),
    "eventbridge_failure_aws_lambda.json": dict(envelope=["eventbridge"], error_type="CardDeclined"),
    "lambda_sns_event.json": dict(envelope=["sns-event"], function_name="update-inventory"),
    "double_encoded.json": dict(envelope=["json-string"], function_name="order"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_shape(name: str) -> None:
    line = one(name)
    for key, value in EXPECTED[name].items():
        assert line[key] == value, f"{name}: {key} = {line[key]!r}, expected {value!r}"


def test_every_golden_file_is_covered() -> None:
    multi = {"lambda_sqs_event.json", "mixed.jsonl", "array.json", "s3"}
    on_disk = {path.name for path in GOOD.iterdir()}
    assert on_disk == set(EXPECTED) | multi


def test_lambda_sqs_event_yields_one_record_per_message() -> None:
    lines = lines_of("lambda_sqs_event.json")
    assert [line["envelope"] for line in lines] == [["sqs-event"], ["sqs-event", "sns"]]
    assert [line["function_name"] for line in lines] == ["order", "update-inventory"]
    assert all(line["input"].endswith("lambda_sqs_event.json") for line in lines)


def test_s3_object_body_in_aws_key_layout() -> None:
    lines = lines_of("s3")
    assert len(lines) == 1
    assert lines[0]["function_name"] == "update-inventory"
    assert lines[0]["condition"] == "RetriesExhausted"
    assert "/aws/lambda/async/update-inventory/2026/11/27/" in lines[0]["input"]


def test_nested_record_keeps_upstream_record_as_payload() -> None:
    line = one("nested_lambda_destination.json")
    upstream = line["request_payload"]
    assert upstream["requestContext"]["functionArn"].endswith(":function:update-inventory:$LATEST")
    assert upstream["requestPayload"]["requestContext"]["requestId"] == "7d6f2b1e-0001-4a7b-9c1d-000000000001"


def test_mixed_jsonl_and_array_files() -> None:
    mixed = lines_of("mixed.jsonl")
    assert [line["envelope"] for line in mixed] == [[], ["sns"], ["eventbridge"]]
    assert [line["input"].rsplit(":", 1)[1] for line in mixed] == ["1", "2", "3"]
    array = lines_of("array.json")
    assert [line["function_name"] for line in array] == ["order", "update-inventory"]


def test_contract_field_names() -> None:
    line = one("success.json")
    assert list(line) == [
        "ok",
        "input",
        "envelope",
        "kind",
        "condition",
        "succeeded",
        "function_name",
        "function_arn",
        "qualifier",
        "request_id",
        "parent_request_id",
        "timestamp",
        "approximate_invoke_count",
        "status_code",
        "function_error",
        "error_type",
        "error_message",
        "correlation_id",
        "request_payload",
        "response_payload",
    ]
