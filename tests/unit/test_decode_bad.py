"""Inputs that are not records become DecodeErrors with a sentence a person understands, never exceptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from records.decode import Correlator, decode
from records.files import read_inputs

BAD = Path(__file__).parent.parent / "golden" / "bad"
GOOD = Path(__file__).parent.parent / "golden" / "good"

REASONS = {
    "truncated.json": "invalid JSON at line 1, column",
    "wrong_types.json": "requestContext.approximateInvokeCount: input should be a valid integer",
    "numeric_timestamp.json": "timestamp must be an ISO-8601 string",
    "not_an_arn.json": "functionArn is not a Lambda function ARN",
    "empty_object.json": "an empty JSON object, not an execution record",
    "unrelated_message.json": "not an execution record (it has no requestContext; its keys: orderId, status, carrier)",
    "s3_event_notification.json": "an S3 event notification: the record is in the object it names (s3://order-fail",
    "sns_not_json.json": "SNS message is not JSON",
    "eventbridge_other_source.json": "from source 'com.example.shop' with detail-type 'Order Placed', not a Lambda",
}


@pytest.mark.parametrize("name", sorted(REASONS))
def test_bad_input_reason(name: str) -> None:
    items = list(read_inputs([BAD / name]))
    assert len(items) == 1
    [decoded] = items[0].decode()
    assert not decoded.ok
    assert decoded.record is None
    assert decoded.error is not None and REASONS[name] in decoded.error, decoded.error
    # the raw text is kept untouched
    assert decoded.raw == (BAD / name).read_text().strip()


def test_every_bad_file_is_covered() -> None:
    assert {path.name for path in BAD.iterdir()} == set(REASONS)


def record() -> dict[str, object]:
    result: dict[str, object] = json.loads((GOOD / "success.json").read_text())
    return result


def test_dead_letter_attributes_written_out_as_an_object_are_not_a_message() -> None:
    # A dead-letter message is read with its message attributes (tests/unit/test_decode_dead_letter.py);
    # an object that only carries their names is neither a record nor a dead-letter message.
    [decoded] = decode(json.dumps({"RequestID": "r", "ErrorCode": 200, "Body": {"orderId": "ord-1"}}))
    assert decoded.error is not None and decoded.error.startswith("an object with RequestID and ErrorCode keys")


def test_dead_letter_message_without_a_request_id_value_says_so() -> None:
    meta = {"MessageAttributes": {"RequestID": {"BinaryValue": "b''"}, "ErrorCode": {"StringValue": "200"}}}
    [decoded] = decode(json.dumps({"orderId": "ord-1"}), meta=meta)
    assert decoded.error == (
        "a dead-letter message without a RequestID value (its RequestID attribute is empty or not text)"
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the input is empty"),
        ("   \n", "the input is empty"),
        (b"\xff\xfe{}", "not UTF-8 text (bad byte at offset 0)"),
        ("[1, 2]", "An array at the top level, not an execution record"),
        ("42", "A number at the top level"),
        ("null", "Null at the top level"),
        ('"just text"', "a JSON string, not an execution record"),
        ('"{\\"a\\": "', "a JSON string holding invalid JSON"),
        ("[" * 100_000, "nested too deeply"),
        ('{"Records": []}', "an event with an empty Records list"),
        ('{"Records": [{"eventSource": "aws:kinesis"}]}', "Records[0] is an event from aws:kinesis"),
        ('{"Type": "Notification", "TopicArn": "t", "Message": 5}', "SNS message is a number, not JSON text"),
    ],
)
def test_bad_inputs(data: bytes | str, reason: str) -> None:
    [decoded] = decode(data)
    assert decoded.error is not None and reason in decoded.error, decoded.error


def test_missing_field_named() -> None:
    value = record()
    del value["requestContext"]["requestId"]  # type: ignore[attr-defined]
    [decoded] = decode(json.dumps(value))
    assert decoded.error == "not an execution record: requestContext.requestId is missing"


def test_open_condition_set_and_extra_fields_accepted() -> None:
    value = record()
    value["requestContext"]["condition"] = "SomethingNewFromAws"  # type: ignore[index]
    value["newTopLevelField"] = {"x": 1}
    [decoded] = decode(value)
    assert decoded.record is not None
    assert decoded.record.condition == "SomethingNewFromAws"
    assert decoded.record.succeeded is False


def test_one_megabyte_record_decodes() -> None:
    value = record()
    value["requestPayload"] = {"orderId": "big-1", "blob": "x" * 1_048_000}
    text = json.dumps(value)
    assert len(text) > 1_000_000
    [decoded] = decode(text.encode())
    assert decoded.ok and decoded.correlation_id == "big-1"
    assert decoded.raw == text


def test_correlation_expressions_are_configurable() -> None:
    value = record()
    value["requestPayload"] = {"detail": {"order": {"number": 77}}}
    [decoded] = decode(value, correlator=Correlator(["missing", "detail.order.number"]))
    assert decoded.correlation_id == "77"
    with pytest.raises(ValueError, match="invalid JMESPath expression"):
        Correlator(["a[?"])


def test_correlation_follows_nested_records_to_the_original_event() -> None:
    nested = json.loads((GOOD / "nested_lambda_destination.json").read_text())
    [decoded] = decode(nested)
    assert decoded.correlation_id == "ord-1001"  # two levels down: rollback <- update-inventory <- order


def test_sns_envelope_metadata_kept() -> None:
    [decoded] = decode((GOOD / "sns_notification.json").read_bytes(), meta={"MessageId": "sqs-1"})
    assert decoded.meta["sns.TopicArn"] == "arn:aws:sns:us-east-1:123456789012:order-notifications"
    assert decoded.meta["sns.MessageId"] == "95df01b4-ee98-5cb9-9903-4c221d41eb5e"
    assert decoded.meta["MessageId"] == "sqs-1"


def test_eventbridge_metadata_kept() -> None:
    [decoded] = decode((GOOD / "eventbridge_success.json").read_text())
    assert decoded.meta["eventbridge.detail-type"] == "Lambda Function Invocation Result - Success"
    assert decoded.meta["eventbridge.source"] == "lambda"
