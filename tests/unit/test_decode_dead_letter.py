"""A dead-letter queue's message (Lambda's DeadLetterConfig) decodes as a DeadLetterMessage: the
original event with the RequestID, ErrorCode and ErrorMessage attributes, wherever it is read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from records.decode import decode
from records.files import read_inputs
from records.lines import json_line, text_line
from records.models import DeadLetterMessage

DEAD = Path(__file__).parent.parent / "golden" / "dead_letter"
EVENT = {"orderId": "ord-1", "amount": 12}


def sqs_meta(request_id: str = "7d6f2b1e-0001") -> dict[str, object]:
    # what the SQS source keeps of a received message (MessageAttributes as ReceiveMessage gives them)
    return {
        "MessageId": "m-1",
        "Attributes": {"SentTimestamp": "1764497553120", "ApproximateReceiveCount": "1"},
        "MessageAttributes": {
            "RequestID": {"StringValue": request_id, "DataType": "String"},
            "ErrorCode": {"StringValue": "200", "DataType": "Number"},
            "ErrorMessage": {"StringValue": "card declined", "DataType": "String"},
        },
    }


def test_an_sqs_dead_letter_message() -> None:
    body = json.dumps(EVENT)
    [decoded] = decode(body, meta=sqs_meta())
    message = decoded.dead_letter
    assert decoded.ok and decoded.record is None and decoded.error is None
    assert message == DeadLetterMessage(
        request_id="7d6f2b1e-0001",
        error_code="200",
        error_message="card declined",
        body=body,
        target=None,
        sent=datetime(2025, 11, 30, 10, 12, 33, 120000, tzinfo=UTC),
    )
    assert message.event == EVENT
    assert decoded.correlation_id == "ord-1"  # the event is the invocation's request payload
    assert decoded.meta["MessageId"] == "m-1"


def test_an_event_that_is_not_json_is_kept_as_text() -> None:
    [decoded] = decode("plain text event", meta=sqs_meta())
    assert decoded.dead_letter is not None and decoded.dead_letter.event == "plain text event"
    assert decoded.correlation_id is None


def test_in_a_lambda_sqs_event() -> None:
    [item] = list(read_inputs([DEAD / "lambda_sqs_event.json"]))
    [decoded] = item.decode()
    message = decoded.dead_letter
    assert message is not None and decoded.envelope == ("sqs-event",)
    assert (message.request_id, message.error_code, message.error_message) == ("7d6f2b1e-0002", "200", "Card declined")
    assert message.target == "arn:aws:sqs:us-east-1:123456789012:order-dlq"
    assert message.target_name == "order-dlq"
    assert message.event["orderId"] == "ord-1001"
    assert decoded.correlation_id == "ord-1001"


def test_an_sns_dead_letter_topic_notification() -> None:
    [item] = list(read_inputs([DEAD / "sns_notification.json"]))
    [decoded] = item.decode()
    message = decoded.dead_letter
    assert message is not None and decoded.envelope == ("sns",)
    assert message.target == "arn:aws:sns:us-east-1:123456789012:ship-dlq"
    assert message.error_message == "Address \x1b[31mnot found\x1b[0m [b]x[/b]"  # kept as sent
    assert message.sent == datetime(2026, 11, 30, 10, 12, 33, 120000, tzinfo=UTC)
    assert decoded.correlation_id == "ord-2002"


def test_a_dead_letter_topic_whose_event_is_a_record_is_still_a_dead_letter_message() -> None:
    # a function invoked by a Lambda destination gets a record as its event: its DLQ message holds one
    record = (Path(__file__).parent.parent / "golden" / "good" / "success.json").read_text()
    notification = {
        "Type": "Notification",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:dlq",
        "Message": record,
        "MessageAttributes": {
            "RequestID": {"Type": "String", "Value": "r-9"},
            "ErrorCode": {"Type": "Number", "Value": "200"},
        },
    }
    [decoded] = decode(json.dumps(notification))
    assert decoded.dead_letter is not None and decoded.dead_letter.request_id == "r-9"


def test_the_jsonl_line_extends_the_record_contract() -> None:
    [decoded] = decode(json.dumps(EVENT), meta=sqs_meta())
    line = json_line(decoded, "queue:order-dlq")
    assert line["kind"] == "dead-letter" and line["ok"] is True
    assert (line["request_id"], line["error_code"], line["error_message"]) == ("7d6f2b1e-0001", "200", "card declined")
    assert line["request_payload"] == EVENT and line["function_name"] is None and line["succeeded"] is False
    assert line["timestamp"] == "2025-11-30T10:12:33.120Z"
    record_line = json_line(decode((DEAD.parent / "good" / "success.json").read_text())[0], "x")
    assert set(record_line) <= set(line)  # every record field is there: a reader of records reads it


def test_the_text_line_shows_no_control_characters() -> None:
    [item] = list(read_inputs([DEAD / "sns_notification.json"]))
    line = text_line(item.decode()[0], "topic:ship-dlq")
    assert "\x1b" not in line
    assert "✗ dead-letter message from ship-dlq  ErrorCode 200: Address \\e[31mnot found" in line
